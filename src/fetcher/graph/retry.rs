//! The retry policy as data: every Graph answer is classified once — use it, retry it (after
//! `Retry-After` or a backoff), renew the token and retry, or fail with Graph's own error — and
//! every failed try and every wait is charged to one budget for the whole run.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Graph's answer to a request it refused: status, error code, message, request id.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    pub status: u16,
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " (request-id {request_id})")?;
        }
        Ok(())
    }
}

impl GraphError {
    /// Reads Graph's `{"error": {"code", "message", "innerError": {"request-id"}}}` body; the
    /// `request-id` header wins when both exist.
    pub fn from_response(status: u16, request_id_header: Option<&str>, body: &[u8]) -> GraphError {
        #[derive(Deserialize)]
        struct Body {
            error: Option<Inner>,
        }
        #[derive(Deserialize)]
        struct Inner {
            code: Option<String>,
            message: Option<String>,
            #[serde(rename = "innerError", alias = "innererror")]
            inner_error: Option<InnerError>,
        }
        #[derive(Deserialize)]
        struct InnerError {
            #[serde(rename = "request-id")]
            request_id: Option<String>,
        }
        let parsed = serde_json::from_slice::<Body>(body)
            .ok()
            .and_then(|body| body.error);
        let body_request_id = parsed
            .as_ref()
            .and_then(|inner| inner.inner_error.as_ref()?.request_id.clone());
        let message = match &parsed {
            Some(inner) => inner.message.clone(),
            None if body.is_empty() => None,
            None => Some(format!("unexpected body: {}", snippet(body))),
        };
        GraphError {
            status,
            code: parsed.and_then(|inner| inner.code),
            message,
            request_id: request_id_header.map(str::to_owned).or(body_request_id),
        }
    }
}

/// The first 160 characters of a body, on one line, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(160)
        .collect();
    flat.trim().to_owned()
}

/// What to do with an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Retry after `after` (from `Retry-After`) or a backoff; `throttled` for 429.
    Retry {
        after: Option<Duration>,
        why: String,
        throttled: bool,
    },
    /// The token was refused: renew it and retry once.
    RenewToken(GraphError),
    /// Give up: retrying cannot help.
    Fail(GraphError),
}

/// Classifies a non-200 answer.
pub fn classify(
    status: u16,
    retry_after: Option<&str>,
    request_id: Option<&str>,
    body: &[u8],
) -> Verdict {
    let error = GraphError::from_response(status, request_id, body);
    let after = retry_after.and_then(parse_retry_after);
    match status {
        429 => Verdict::Retry {
            after,
            why: error.to_string(),
            throttled: true,
        },
        500 | 502 | 503 | 504 | 507 | 509 => Verdict::Retry {
            after,
            why: error.to_string(),
            throttled: false,
        },
        408 => Verdict::Retry {
            after,
            why: error.to_string(),
            throttled: false,
        },
        401 => Verdict::RenewToken(error),
        _ => Verdict::Fail(error),
    }
}

/// `Retry-After`: seconds, possibly fractional (`2.128`), or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds.max(0.0)).ok();
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
        .or(Some(Duration::ZERO))
}

/// How often and how long a run may retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Tries of one request before it fails (the first included).
    pub max_attempts: u32,
    /// The first backoff's upper bound; doubles with each retry of the same request.
    pub base: Duration,
    /// The largest backoff.
    pub cap: Duration,
    /// Total time the run may lose to failures: failed tries and the waits before retries.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
            budget: Duration::from_secs(15 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first) without a `Retry-After`: a random
    /// point in the upper half of an exponentially growing bound ("equal jitter"), so clients
    /// do not retry in step.
    pub fn backoff(&self, retry: u32) -> Duration {
        let bound = self
            .base
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.cap);
        let fraction: f64 = rand::random_range(0.5..=1.0);
        bound.mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_answer_once() {
        let throttled = classify(429, Some("2.128"), None, b"");
        assert_eq!(
            throttled,
            Verdict::Retry {
                after: Some(Duration::from_millis(2128)),
                why: "HTTP 429".into(),
                throttled: true
            }
        );
        for status in [500, 502, 503, 504] {
            assert!(
                matches!(
                    classify(status, None, None, b"oops"),
                    Verdict::Retry {
                        after: None,
                        throttled: false,
                        ..
                    }
                ),
                "{status}"
            );
        }
        assert!(
            matches!(classify(503, Some("1.5"), None, b""), Verdict::Retry { after: Some(d), .. } if d == Duration::from_millis(1500))
        );
        assert!(matches!(
            classify(401, None, None, b""),
            Verdict::RenewToken(_)
        ));
        for status in [400, 403, 404] {
            assert!(
                matches!(classify(status, None, None, b""), Verdict::Fail(_)),
                "{status}"
            );
        }
    }

    #[test]
    fn graph_errors_carry_code_message_and_request_id() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2026-11-25T08:00:00","request-id":"r-1"}}}"#;
        let Verdict::Fail(error) = classify(403, None, None, body) else {
            panic!()
        };
        assert_eq!(
            error.to_string(),
            "HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation. (request-id r-1)"
        );
        let Verdict::Fail(error) = classify(404, None, Some("h-2"), b"<html>Not Found</html>")
        else {
            panic!()
        };
        assert_eq!(
            error.to_string(),
            "HTTP 404: unexpected body: <html>Not Found</html> (request-id h-2)"
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("0.734"), Some(Duration::from_millis(734)));
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-1"), Some(Duration::ZERO));
    }

    #[test]
    fn backoff_grows_with_jitter_up_to_the_cap() {
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        for retry in 1..=10 {
            let bound = Duration::from_millis(100 * (1 << (retry - 1))).min(Duration::from_secs(1));
            let wait = policy.backoff(retry);
            assert!(wait >= bound / 2 && wait <= bound, "{retry}: {wait:?}");
        }
    }
}
