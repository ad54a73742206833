//! One Logs query at a time: `POST {logs-url}/v1/workspaces/{id}/query` with the window's KQL
//! and `timespan`, through the Graph fetcher's machinery: the sliding-window [`Limiter`], the
//! azure_identity [`TokenSource`] (scope `https://api.loganalytics.io/.default`), and
//! [`classify`] with the [`RetryPolicy`], every failed try and every wait charged to one budget.
//!
//! 429 and 5xx are retried (after `Retry-After` when the service sends one); a 401 renews the
//! token; 400, 403 and 404 fail at once, a 403 explaining the permission and role a workspace
//! needs. An answer that is not a query result (an empty 200, a gateway's page) is retried like a
//! network fault. The bearer token never appears in a message.

use std::time::{Duration, Instant};

use azure_core::credentials::Secret;
use tracing::{debug, info};
use url::Url;

use super::LOGS_AUTH_HINT;
use super::answer::{self, Answer};
use super::kql::{self, Window};
use crate::fetcher::graph::auth::TokenSource;
use crate::fetcher::graph::pager::{FetchStats, network_error, without_token};
use crate::fetcher::graph::retry::{GraphError, RetryPolicy, Verdict, classify};
use crate::fetcher::graph::throttle::{Limiter, RateLimit};
use crate::fetcher::graph::{Cancel, FetchError};

/// Fresh tokens one query may try after a 401.
const MAX_RENEWALS: u32 = 3;

pub struct LogsClient {
    http: reqwest::Client,
    tokens: TokenSource,
    url: Url,
    limiter: Limiter,
    policy: RetryPolicy,
    budget_left: Duration,
    stats: FetchStats,
    cancel: Cancel,
}

/// Why one try gave no answer.
enum Failure {
    /// Worth another try: the network, a non-answer, a transient sign-in failure.
    Transient(String),
    Verdict(Verdict),
}

impl LogsClient {
    pub fn new(
        logs_url: &Url,
        workspace: &str,
        http: reqwest::Client,
        tokens: TokenSource,
        throttle: RateLimit,
        policy: RetryPolicy,
        cancel: Cancel,
    ) -> Result<LogsClient, FetchError> {
        let mut url = logs_url.clone();
        url.path_segments_mut()
            .map_err(|()| FetchError::Setup(format!("--logs-url {logs_url} cannot take a path")))?
            .pop_if_empty()
            .extend(["v1", "workspaces", workspace, "query"]);
        Ok(LogsClient {
            http,
            tokens,
            url,
            limiter: Limiter::new(throttle),
            policy,
            budget_left: policy.budget,
            stats: FetchStats::default(),
            cancel,
        })
    }

    pub fn stats(&self) -> &FetchStats {
        &self.stats
    }

    pub fn note_split(&mut self) {
        self.stats.splits += 1;
    }

    /// The answer for one window (possibly partial: the caller decides), retried within the policy.
    pub async fn query(&mut self, window: &Window) -> Result<Answer, FetchError> {
        let body = serde_json::json!({
            "query": kql::query(window),
            "timespan": window.timespan(),
        })
        .to_string();
        let mut tries = 0u32;
        let mut renewals = 0u32;
        loop {
            tries += 1;
            let wait = self.limiter.delay(Instant::now());
            self.pause(wait).await?;
            let started = Instant::now();
            let token = tokio::select! {
                token = self.tokens.token() => token,
                () = self.cancel.cancelled() => return Err(FetchError::Interrupted),
            };
            let failure = match token {
                Ok(token) => match self.send(&body, &token).await? {
                    Ok(answer) => {
                        self.limiter.succeeded();
                        self.stats.pages += 1;
                        self.stats.records += answer.rows.len() as u64;
                        return Ok(answer);
                    }
                    Err(failure) => failure,
                },
                Err(err) if err.transient => Failure::Transient(err.message),
                Err(err) => {
                    return Err(FetchError::Auth(format!(
                        "{}; {LOGS_AUTH_HINT}",
                        err.message
                    )));
                }
            };
            let (after, why) = match failure {
                Failure::Transient(why) => (None, why),
                Failure::Verdict(Verdict::Fail(error)) => return Err(refusal(error)),
                Failure::Verdict(Verdict::RenewToken(error)) if renewals < MAX_RENEWALS => {
                    renewals += 1;
                    tries -= 1;
                    self.stats.token_renewals += 1;
                    info!("Log Analytics refused the token ({error}); renewing it");
                    self.tokens.renew().map_err(FetchError::Auth)?;
                    continue;
                }
                Failure::Verdict(Verdict::RenewToken(error)) => {
                    return Err(FetchError::Auth(format!(
                        "Log Analytics refused {MAX_RENEWALS} fresh tokens in a row: {error}; {LOGS_AUTH_HINT}"
                    )));
                }
                Failure::Verdict(Verdict::Retry {
                    after,
                    why,
                    throttled: true,
                }) => {
                    let pause = after.unwrap_or_else(|| self.policy.backoff(tries));
                    self.stats.throttled += 1;
                    self.limiter.throttled(Instant::now(), Some(pause));
                    info!(
                        "throttled by Log Analytics ({why}); pausing {:.2}s",
                        pause.as_secs_f64()
                    );
                    (Some(Duration::ZERO), why)
                }
                Failure::Verdict(Verdict::Retry { after, why, .. }) => (after, why),
            };
            let wait = self.charge(tries, started, after, &why, window)?;
            self.pause(wait).await?;
        }
    }

    /// Charges a failed try (its own time too: a service that never answers costs a timeout per
    /// try) and the wait before the next to the budget; returns the wait, or `Err` when tries or
    /// budget ran out.
    fn charge(
        &mut self,
        tries: u32,
        started: Instant,
        after: Option<Duration>,
        why: &str,
        window: &Window,
    ) -> Result<Duration, FetchError> {
        let what = || format!("the query of {window}");
        if tries >= self.policy.max_attempts {
            return Err(FetchError::Exhausted(format!(
                "{tries} tries of {} failed; the last: {why}",
                what()
            )));
        }
        let wait = after.unwrap_or_else(|| self.policy.backoff(tries));
        let charged = started.elapsed() + wait.max(self.limiter.delay(Instant::now()));
        if charged > self.budget_left {
            return Err(FetchError::Exhausted(format!(
                "the retry budget ({:?}) is spent; the last failure of {}: {why}",
                self.policy.budget,
                what()
            )));
        }
        self.budget_left -= charged;
        self.stats.retries += 1;
        debug!("retrying {} in {:.2}s: {why}", what(), wait.as_secs_f64());
        Ok(wait)
    }

    /// One try; `Ok(Err(_))` is a failure to classify, `Err` is cancellation.
    async fn send(
        &mut self,
        body: &str,
        token: &Secret,
    ) -> Result<Result<Answer, Failure>, FetchError> {
        self.limiter.sent(Instant::now());
        self.stats.requests += 1;
        let request = self
            .http
            .post(self.url.clone())
            .bearer_auth(token.secret())
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            // The longest a query may run; without it the service stops at 3 minutes.
            .header("Prefer", "wait=600")
            .body(body.to_owned())
            .send();
        let response = tokio::select! {
            response = request => response,
            () = self.cancel.cancelled() => return Err(FetchError::Interrupted),
        };
        let response = match response {
            Ok(response) => response,
            Err(err) => return Ok(Err(Failure::Transient(network_error(err)))),
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after");
        let request_id = header("x-ms-request-id").or_else(|| header("request-id"));
        let bytes = tokio::select! {
            bytes = response.bytes() => bytes,
            () = self.cancel.cancelled() => return Err(FetchError::Interrupted),
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(err) => {
                return Ok(Err(Failure::Transient(format!(
                    "the answer was cut off: {}",
                    network_error(err)
                ))));
            }
        };
        let clean = without_token(&bytes, token.secret().as_bytes());
        Ok(match status {
            // An empty workspace answers 204.
            204 => Ok(Answer::default()),
            200 => answer::read(&bytes).map_err(|why| {
                Failure::Transient(format!(
                    "HTTP 200 without a query result ({why}): {}",
                    crate::fetcher::graph::retry::snippet(&clean)
                ))
            }),
            300..=399 => Err(Failure::Verdict(Verdict::Fail(GraphError {
                status,
                code: None,
                message: Some(
                    "a redirect, not followed (the token is only sent to --logs-url)".into(),
                ),
                request_id,
            }))),
            _ => {
                let mut verdict = classify(
                    status,
                    retry_after.as_deref(),
                    request_id.as_deref(),
                    &clean,
                );
                if let Verdict::Fail(error) | Verdict::RenewToken(error) = &mut verdict {
                    error.request_id = error.request_id.take().or_else(|| correlation_id(&clean));
                }
                Err(Failure::Verdict(verdict))
            }
        })
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

/// The `correlationId` Log Analytics puts in its error objects, the id its support asks for.
fn correlation_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value["error"]["correlationId"].as_str().map(str::to_owned)
}

/// A refusal that retrying cannot fix.
fn refusal(error: GraphError) -> FetchError {
    match error.status {
        401 | 403 => FetchError::Auth(format!(
            "Log Analytics refused access: {error}; {LOGS_AUTH_HINT}"
        )),
        _ => FetchError::QueryRefused(error.to_string()),
    }
}
