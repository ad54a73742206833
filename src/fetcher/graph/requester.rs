//! One request to a Microsoft API, sent well: through the limiter, with a fresh token, retried
//! as [`classify`] decides within the run's one budget, the token renewed when the API refuses it
//! mid-run, cancellable at every wait. The pager and every other reader of an API send through
//! a [`Requester`]; what the answer means is theirs to read.

use std::time::{Duration, Instant};

use azure_core::credentials::Secret;
use reqwest::Method;
use tracing::{debug, info};
use url::Url;

use super::auth::{AUTH_HINT, TokenError, TokenSource};
use super::retry::{GraphError, RetryPolicy, Verdict, classify, snippet};
use super::throttle::{Limiter, RateLimit};
use super::{Cancel, FetchError};

/// Counters for progress and the closing summary.
#[derive(Debug, Default, Clone)]
pub struct FetchStats {
    pub requests: u32,
    pub pages: u32,
    pub records: u64,
    pub retries: u32,
    pub throttled: u32,
    pub token_renewals: u32,
    /// Log Analytics: windows split in two because their answer was partial.
    pub splits: u32,
    /// Time spent waiting for the limiter and for retries.
    pub waited: Duration,
}

/// One request: what to send, and which successful answers are usable.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a Url,
    /// A JSON body to send.
    pub json: Option<&'a serde_json::Value>,
    /// Whether a 200 answer's body is usable; `Err` says why not (the try is retried: a cut
    /// or garbled body is a network fault).
    pub check: &'a (dyn Fn(&[u8]) -> Result<(), String> + Sync),
    /// What a usable answer is, for messages: `a Graph page`.
    pub answer: &'a str,
    /// Headers beyond the token and `Accept`.
    pub headers: &'a [(&'a str, &'a str)],
}

impl Request<'_> {
    /// The request for messages: method, origin and path (queries may be long or carry tokens).
    fn describe(&self) -> String {
        format!(
            "{} {}{}",
            self.method,
            self.url.origin().ascii_serialization(),
            self.url.path()
        )
    }
}

/// Fresh tokens one request may try after the API answers 401 (a token can expire in flight).
const MAX_RENEWALS: u32 = 3;

/// Why one try of a request did not produce a usable answer.
enum TryFailure {
    Verdict(Verdict),
    Network(String),
}

/// Sends requests for one run: one limiter, one token source, one retry budget.
pub struct Requester {
    http: reqwest::Client,
    tokens: TokenSource,
    /// What to check when sign-in fails, for messages: the API's permissions.
    auth_hint: &'static str,
    limiter: Limiter,
    policy: RetryPolicy,
    budget_left: Duration,
    stats: FetchStats,
    cancel: Cancel,
}

impl Requester {
    /// The tenant signed in to (see [`TokenSource::tenant`]).
    pub async fn tenant(&self) -> Option<String> {
        self.tokens.tenant().await
    }

    /// A requester for Graph; [`Requester::with_auth_hint`] names another API's permissions.
    pub fn new(
        http: reqwest::Client,
        tokens: TokenSource,
        throttle: RateLimit,
        policy: RetryPolicy,
        cancel: Cancel,
    ) -> Requester {
        Requester {
            http,
            tokens,
            auth_hint: AUTH_HINT,
            limiter: Limiter::new(throttle),
            policy,
            budget_left: policy.budget,
            stats: FetchStats::default(),
            cancel,
        }
    }

    /// Sign-in failures name `hint` (the API's permissions) instead of Graph's.
    pub fn with_auth_hint(mut self, hint: &'static str) -> Requester {
        self.auth_hint = hint;
        self
    }

    pub fn stats(&self) -> &FetchStats {
        &self.stats
    }

    /// Counts a window split in two because its answer was partial.
    pub fn count_split(&mut self) {
        self.stats.splits += 1;
    }

    /// Counts a page of `records` read from answers.
    pub fn count_page(&mut self, records: usize) {
        self.stats.pages += 1;
        self.stats.records += records as u64;
    }

    /// Sends `request` until it is answered with a usable body, retrying within the policy. A
    /// refusal retrying cannot fix comes back as [`FetchError::Refused`] with the API's own
    /// error, for the caller to judge (see [`refusal`]).
    pub async fn send(&mut self, request: &Request<'_>) -> Result<Vec<u8>, FetchError> {
        let mut attempt = 0u32;
        let mut renewals = 0u32;
        loop {
            attempt += 1;
            let wait = self.limiter.delay(Instant::now());
            self.pause(wait).await?;
            let tried = Instant::now();
            let failure = match self.token().await? {
                Ok(token) => {
                    self.limiter.sent(Instant::now());
                    self.stats.requests += 1;
                    match self.try_once(request, &token).await? {
                        Ok(body) => {
                            self.limiter.succeeded();
                            return Ok(body);
                        }
                        Err(failure) => failure,
                    }
                }
                Err(err) if err.transient => TryFailure::Network(err.message),
                Err(err) => {
                    return Err(FetchError::Auth(format!(
                        "{}; {}",
                        err.message, self.auth_hint
                    )));
                }
            };
            let (after, why) = match failure {
                TryFailure::Network(why) => (None, why),
                TryFailure::Verdict(Verdict::Fail(error)) => {
                    return Err(FetchError::Refused(error));
                }
                TryFailure::Verdict(Verdict::RenewToken(error)) => {
                    self.renew(error, &mut renewals)?;
                    // A renewal is not a failed try.
                    attempt -= 1;
                    continue;
                }
                TryFailure::Verdict(Verdict::Retry {
                    after,
                    why,
                    throttled,
                }) if throttled => {
                    self.throttled(after.unwrap_or_else(|| self.policy.backoff(attempt)), &why);
                    // The limiter holds every request for the pause; nothing more to wait here.
                    (Some(Duration::ZERO), why)
                }
                TryFailure::Verdict(Verdict::Retry { after, why, .. }) => (after, why),
            };
            let wait = after.unwrap_or_else(|| self.policy.backoff(attempt));
            self.charge(request, attempt, tried.elapsed(), wait, &why)?;
            debug!(
                "retrying {} in {:.2}s: {why}",
                request.describe(),
                wait.as_secs_f64()
            );
            self.pause(wait).await?;
        }
    }

    /// A fresh token after the API refused one, at most [`MAX_RENEWALS`] in a row.
    fn renew(&mut self, error: GraphError, renewals: &mut u32) -> Result<(), FetchError> {
        if *renewals == MAX_RENEWALS {
            return Err(FetchError::Auth(format!(
                "the API refused {MAX_RENEWALS} fresh tokens in a row: {error}; {}",
                self.auth_hint
            )));
        }
        *renewals += 1;
        self.stats.token_renewals += 1;
        info!("the API refused the token ({error}); renewing it");
        self.tokens.renew().map_err(FetchError::Auth)
    }

    /// A throttling answer: every request waits out `pause` in the limiter, at a halved rate.
    fn throttled(&mut self, pause: Duration, why: &str) {
        self.stats.throttled += 1;
        self.limiter.throttled(Instant::now(), Some(pause));
        info!(
            "throttled ({why}); pausing {:.2}s, now at most {} requests per window",
            pause.as_secs_f64(),
            self.limiter.allowed()
        );
    }

    /// Charges a failed try and the wait before the next to the budget, or ends the request.
    fn charge(
        &mut self,
        request: &Request<'_>,
        attempt: u32,
        spent: Duration,
        wait: Duration,
        why: &str,
    ) -> Result<(), FetchError> {
        if attempt >= self.policy.max_attempts {
            return Err(FetchError::Exhausted(format!(
                "{attempt} tries of {} failed; the last: {why}",
                request.describe()
            )));
        }
        let pending_pause = self.limiter.delay(Instant::now());
        // The failed try's own time counts too: an API that never answers costs a timeout per
        // try, and the budget bounds the whole run.
        let charged = spent + wait.max(pending_pause);
        if charged > self.budget_left {
            return Err(FetchError::Exhausted(format!(
                "the retry budget ({:?}) is spent; the last failure of {}: {why}",
                self.policy.budget,
                request.describe()
            )));
        }
        self.budget_left -= charged;
        self.stats.retries += 1;
        Ok(())
    }

    /// A token for the next try; `Err` is cancellation (a token endpoint that does not answer
    /// must not hold up a signal until the request times out).
    async fn token(&mut self) -> Result<Result<Secret, TokenError>, FetchError> {
        tokio::select! {
            token = self.tokens.token() => Ok(token),
            () = self.cancel.cancelled() => Err(FetchError::Interrupted),
        }
    }

    /// Sends one try; `Ok(Err(_))` is a failure to classify, `Err` is cancellation.
    async fn try_once(
        &mut self,
        request: &Request<'_>,
        token: &Secret,
    ) -> Result<Result<Vec<u8>, TryFailure>, FetchError> {
        let mut builder = self
            .http
            .request(request.method.clone(), request.url.clone())
            .bearer_auth(token.secret())
            .header("Accept", "application/json");
        for (name, value) in request.headers {
            builder = builder.header(*name, *value);
        }
        if let Some(json) = request.json {
            builder = builder.json(json);
        }
        let response = tokio::select! {
            response = builder.send() => response,
            () = self.cancel.cancelled() => return Err(FetchError::Interrupted),
        };
        let response = match response {
            Ok(response) => response,
            Err(err) => return Ok(Err(TryFailure::Network(network_error(err)))),
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let (retry_after, request_id, content_type, location) = (
            header("retry-after"),
            header("request-id").or_else(|| header("x-ms-request-id")),
            header("content-type"),
            header("location"),
        );
        let body = tokio::select! {
            body = response.bytes() => body,
            () = self.cancel.cancelled() => return Err(FetchError::Interrupted),
        };
        let body = match body {
            Ok(body) => body,
            Err(err) => {
                return Ok(Err(TryFailure::Network(format!(
                    "the answer was cut off: {}",
                    network_error(err)
                ))));
            }
        };
        // 204: an empty answer (an empty Log Analytics workspace); `check` judges it.
        let unusable = if matches!(status, 200 | 204) {
            match (request.check)(&body) {
                Ok(()) => return Ok(Ok(body.to_vec())),
                Err(why) => Some(why),
            }
        } else {
            None
        };
        // The body is quoted in messages from here on: an error page that echoes the request's
        // headers (as some proxies' do) must not carry the token into them.
        let secret = token.secret();
        let body = without_token(&body, secret.as_bytes());
        if (300..400).contains(&status) {
            return Ok(Err(TryFailure::Verdict(Verdict::Fail(GraphError {
                status,
                code: None,
                message: Some(format!(
                    "a redirect to {}, not followed (the token is only sent to the API's host)",
                    location.as_deref().unwrap_or("nowhere")
                )),
                request_id,
            }))));
        }
        if !matches!(status, 200 | 204) {
            let mut verdict =
                classify(status, retry_after.as_deref(), request_id.as_deref(), &body);
            if let Verdict::Fail(error) | Verdict::RenewToken(error) = &mut verdict {
                error.request_id = error.request_id.take().or_else(|| correlation_id(&body));
            }
            return Ok(Err(TryFailure::Verdict(verdict)));
        }
        Ok(Err(TryFailure::Network(format!(
            "HTTP {status} with a body that is not {} ({}, {} bytes: {}): {}",
            request.answer,
            content_type.as_deref().unwrap_or("no content type"),
            body.len(),
            String::from_utf8_lossy(&without_token(
                unusable.unwrap_or_default().as_bytes(),
                secret.as_bytes()
            )),
            snippet(&body)
        ))))
    }

    /// Sleeps, unless the run is cancelled meanwhile.
    async fn pause(&mut self, wait: Duration) -> Result<(), FetchError> {
        if wait.is_zero() {
            return Ok(());
        }
        self.stats.waited += wait;
        tokio::select! {
            () = tokio::time::sleep(wait) => Ok(()),
            () = self.cancel.cancelled() => Err(FetchError::Interrupted),
        }
    }
}

/// `body` with every copy of `token` replaced by `<token>`.
pub(crate) fn without_token(body: &[u8], token: &[u8]) -> Vec<u8> {
    let mut clean = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = memchr::memmem::find(rest, token).filter(|_| !token.is_empty()) {
        clean.extend_from_slice(&rest[..at]);
        clean.extend_from_slice(b"<token>");
        rest = &rest[at + token.len()..];
    }
    clean.extend_from_slice(rest);
    clean
}

/// The `correlationId` some APIs (Log Analytics) put in their error objects instead of a
/// request id: the id their support asks for.
fn correlation_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value["error"]["correlationId"].as_str().map(str::to_owned)
}

/// A reader's view of a refusal: 401 after a renewal and 403 are authorisation problems, named
/// with Graph's sign-in hints; anything else stays what the API said.
pub fn refusal(error: FetchError) -> FetchError {
    match error {
        FetchError::Refused(error) if matches!(error.status, 401 | 403) => {
            FetchError::Auth(format!("Graph refused access: {error}; {AUTH_HINT}"))
        }
        other => other,
    }
}

/// A failed request's kind and causes; its URL is left out (messages name the request without
/// its query, see [`describe`]).
pub(crate) fn network_error(err: reqwest::Error) -> String {
    let err = err.without_url();
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "network error"
    };
    let mut text = format!("{kind}: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
