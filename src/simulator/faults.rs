//! Injected faults: which request gets one (the seeded generator decides) and the broken
//! responses they are.
//!
//! One number is drawn per directoryAudits request that passed the throttle, and a second one
//! for the fault's kind when it fails, so the same seed and the same sequence of requests fail
//! the same way. A broken connection is made by a body that fails: hyper then closes the
//! connection, after the bytes already sent (a truncated page) or before the response head
//! was ever written (a reset).

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

use super::Fault;
use super::graph::{self, GRAPH_JSON, RequestIds};
use super::random::SeededRng;

/// How long a truncated page waits after its first half, so that half reaches the client before
/// the connection closes.
const TRUNCATION_PAUSE: Duration = Duration::from_millis(20);

/// Which requests fail, and how.
pub(super) struct FaultPlan {
    rate: f64,
    faults: Vec<Fault>,
    rng: Mutex<SeededRng>,
}

impl FaultPlan {
    pub fn new(rate: f64, faults: Vec<Fault>, seed: u64) -> Self {
        FaultPlan {
            rate,
            faults,
            rng: Mutex::new(SeededRng::new(seed)),
        }
    }

    /// The fault for the next request, if it gets one.
    pub fn draw(&self) -> Option<Fault> {
        if self.faults.is_empty() {
            return None;
        }
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if rng.next_unit() >= self.rate {
            return None;
        }
        Some(self.faults[rng.below(self.faults.len())])
    }
}

/// The response a fault makes of a request whose normal answer would have been `page_body`
/// (a [`Fault::SlowResponse`] is that answer, late).
pub(super) async fn respond(fault: Fault, page_body: String, ids: &RequestIds) -> Response {
    match fault {
        Fault::Status500 => graph::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            "An unspecified error has occurred.",
            ids,
        ),
        Fault::Status502 => graph::error(
            StatusCode::BAD_GATEWAY,
            "UnknownError",
            "The gateway received an invalid response from the service.",
            ids,
        ),
        Fault::Status503 { retry_after } => {
            let mut response = graph::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Try the request again after a delay.",
                ids,
            );
            if retry_after {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, "1.5".parse().expect("a valid header value"));
            }
            response
        }
        Fault::Status504 => graph::error(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            "The operation timed out before it could be completed.",
            ids,
        ),
        Fault::TruncatedBody => {
            let full = Bytes::from(page_body);
            let body = BrokenBody {
                claimed_len: Some(full.len() as u64),
                head: Some(full.slice(..full.len() / 2)),
                pause: Some(Box::pin(tokio::time::sleep(TRUNCATION_PAUSE))),
            };
            ids.stamp(([(CONTENT_TYPE, GRAPH_JSON)], Body::new(body)).into_response())
        }
        Fault::ConnectionReset => Body::new(BrokenBody {
            claimed_len: None,
            head: None,
            pause: None,
        })
        .into_response(),
        Fault::HtmlErrorPage => ids.stamp(
            (
                [(CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n\
                 <body><h1>Service Unavailable</h1>\n\
                 <p>The gateway could not reach the service. Please try again later.</p>\
                 </body></html>\n",
            )
                .into_response(),
        ),
        Fault::Unauthorized => {
            graph::invalid_token("Access token has expired or is not yet valid.", ids)
        }
        Fault::SlowResponse(delay) => {
            tokio::time::sleep(delay).await;
            ids.stamp(([(CONTENT_TYPE, GRAPH_JSON)], page_body).into_response())
        }
    }
}

/// A body that sends `head` (if any), waits `pause` (if any), then fails. With `claimed_len`
/// its size hint (hence `Content-Length`) promises that many bytes; without, it is chunked.
struct BrokenBody {
    claimed_len: Option<u64>,
    head: Option<Bytes>,
    pause: Option<Pin<Box<Sleep>>>,
}

impl HttpBody for BrokenBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if let Some(head) = this.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        if let Some(pause) = &mut this.pause {
            ready!(pause.as_mut().poll(cx));
            this.pause = None;
        }
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "simulated fault: connection cut",
        ))))
    }

    fn size_hint(&self) -> SizeHint {
        self.claimed_len
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_faults_at_the_given_rate() {
        let faults = vec![
            Fault::Status500,
            Fault::ConnectionReset,
            Fault::TruncatedBody,
        ];
        let draws = |seed| {
            let plan = FaultPlan::new(0.3, faults.clone(), seed);
            (0..2000).map(|_| plan.draw()).collect::<Vec<_>>()
        };
        let first = draws(42);
        assert_eq!(first, draws(42));
        assert_ne!(first, draws(43));
        let failed = first.iter().flatten().count();
        assert!((500..700).contains(&failed), "{failed} of 2000 failed");
        for fault in &faults {
            assert!(first.contains(&Some(*fault)), "{fault:?} never drawn");
        }
        assert_eq!(FaultPlan::new(0.0, faults.clone(), 1).draw(), None);
        assert!(FaultPlan::new(1.0, faults, 1).draw().is_some());
    }
}
