//! `GET /v1.0/auditLogs/directoryAudits` (and `/beta/...`): one request through the stages Graph
//! puts it through, in order: the configured response delay, the access token (401), the
//! throttle (429) (these three are [`admit`], which the summary report shares), the query
//! (400), then a page, or the fault drawn for this request instead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::faults;
use super::graph::{self, GRAPH_JSON, RequestIds};
use super::paging::PageLinks;
use super::query::AuditQuery;
use super::throttle::Admission;
use super::token::TokenCheck;
use super::{Fault, Shared};

/// The stages every simulated Graph report request goes through before its answer: the
/// configured response delay, the access token (401) and the throttle (429).
pub(super) async fn admit(
    shared: &Shared,
    headers: &HeaderMap,
    ids: &RequestIds,
) -> Result<(), Response> {
    shared.stats.update(|stats| stats.requests += 1);
    if !shared.response_delay.is_zero() {
        tokio::time::sleep(shared.response_delay).await;
    }

    authorize(shared, headers, ids)
}

pub(super) async fn directory_audits(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let response = answer(&shared, &uri, &headers).await;
    tracing::debug!(status = response.status().as_u16(), "simulator: GET {uri}");
    response
}

async fn answer(shared: &Shared, uri: &Uri, headers: &HeaderMap) -> Response {
    let ids = RequestIds::new(headers, &shared.secrets);
    if let Err(refused) = admit(shared, headers, &ids).await {
        return refused;
    }

    let version = if uri.path().starts_with("/beta/") {
        "beta"
    } else {
        "v1.0"
    };
    let links = PageLinks {
        base_url: &shared.base_url,
        version,
    };
    let page = AuditQuery::parse(uri.query().unwrap_or(""))
        .map_err(|err| err.to_string())
        .and_then(|query| {
            if shared.refuse_or && query.filter.has_or() {
                return Err(
                    "Invalid filter clause: 'or' is not supported in this filter.".to_owned(),
                );
            }
            shared
                .records
                .page(&query, &shared.paging, &links, &shared.secrets)
                .map_err(|err| err.to_string())
        });
    let page = match page {
        Ok(page) => page,
        Err(message) => {
            shared.stats.update(|stats| stats.bad_requests += 1);
            return graph::error(StatusCode::BAD_REQUEST, "BadRequest", &message, &ids);
        }
    };

    if let Some(fault) = shared.faults.draw() {
        shared.stats.update(|stats| {
            stats.faults_injected += 1;
            if let Fault::SlowResponse(_) = fault {
                stats.pages_served += 1;
                stats.records_served += page.records as u64;
            }
        });
        tracing::debug!(?fault, "simulator: injecting a fault");
        return faults::respond(fault, page.body, &ids).await;
    }
    shared.stats.update(|stats| {
        stats.pages_served += 1;
        stats.records_served += page.records as u64;
    });
    ids.stamp(([(CONTENT_TYPE, GRAPH_JSON)], page.body).into_response())
}

/// The token (401) and throttle (429) stages every Graph request of the simulator goes through.
pub(super) fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    ids: &RequestIds,
) -> Result<(), Response> {
    let now = Instant::now();
    let client_id = match shared.tokens.check(headers, now) {
        TokenCheck::Valid { client_id } => client_id,
        refused => {
            shared.stats.update(|stats| stats.auth_failures += 1);
            let message = match refused {
                TokenCheck::Missing => "Access token is empty.",
                TokenCheck::Unknown => "CompactToken parsing failed with error code: 80049217",
                _ => "Access token has expired or is not yet valid.",
            };
            return Err(graph::invalid_token(message, ids));
        }
    };
    if let Some(throttle) = &shared.throttle {
        match throttle.admit(&client_id, now) {
            Admission::Accepted { in_window } => shared.stats.update(|stats| {
                stats.max_requests_in_window = stats.max_requests_in_window.max(in_window);
            }),
            Admission::Throttled { retry_after } => {
                shared.stats.update(|stats| stats.throttled += 1);
                let mut response = graph::error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    "Too many requests.",
                    ids,
                );
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, retry_after_value(retry_after));
                return Err(response);
            }
        }
    }
    Ok(())
}

/// `Retry-After` in seconds with millisecond digits (`0.734`), rounded up so a client that
/// waits exactly that long finds the slot free.
fn retry_after_value(wait: Duration) -> HeaderValue {
    let millis = wait.as_micros().div_ceil(1000);
    HeaderValue::from_str(&format!("{}.{:03}", millis / 1000, millis % 1000))
        .expect("digits and a dot are a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_has_fractional_seconds_rounded_up() {
        let text = |micros| retry_after_value(Duration::from_micros(micros));
        assert_eq!(text(733_001), "0.734");
        assert_eq!(text(50_000), "0.050");
        assert_eq!(text(2_128_000), "2.128");
    }
}
