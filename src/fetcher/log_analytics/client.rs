//! One Logs query at a time: `POST {logs-url}/v1/workspaces/{id}/query` with the window's KQL
//! and `timespan`, sent by the fetcher's [`Requester`]: the sliding-window limiter, the
//! azure_identity [`TokenSource`] (scope `https://api.loganalytics.io/.default`), and the retry
//! policy, every failed try and every wait charged to one budget.
//!
//! 429 and 5xx are retried (after `Retry-After` when the service sends one); a 401 renews the
//! token; 400, 403 and 404 fail at once, a 403 explaining the permission and role a workspace
//! needs. An answer that is not a query result (an empty 200, a gateway's page) is retried like a
//! network fault. The bearer token never appears in a message.

use reqwest::Method;
use url::Url;

use super::LOGS_AUTH_HINT;
use super::answer::{self, Answer};
use super::kql::{self, Window};
use crate::fetcher::graph::auth::TokenSource;
use crate::fetcher::graph::pager::FetchStats;
use crate::fetcher::graph::requester::{Request, Requester};
use crate::fetcher::graph::retry::RetryPolicy;
use crate::fetcher::graph::throttle::RateLimit;
use crate::fetcher::graph::{Cancel, FetchError};

pub struct LogsClient {
    requester: Requester,
    url: Url,
}

/// Whether a body is a query result (an empty body is the empty answer of a 204).
fn is_answer(body: &[u8]) -> Result<(), String> {
    if body.is_empty() {
        return Ok(());
    }
    answer::read(body).map(drop)
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
            requester: Requester::new(http, tokens, throttle, policy, cancel)
                .with_auth_hint(LOGS_AUTH_HINT),
            url,
        })
    }

    pub fn stats(&self) -> &FetchStats {
        self.requester.stats()
    }

    pub fn note_split(&mut self) {
        self.requester.count_split();
    }

    /// The answer for one window (possibly partial: the caller decides), retried within the policy.
    pub async fn query(&mut self, window: &Window) -> Result<Answer, FetchError> {
        let json = serde_json::json!({
            "query": kql::query(window),
            "timespan": window.timespan(),
        });
        let request = Request {
            method: Method::POST,
            url: &self.url,
            json: Some(&json),
            check: &is_answer,
            answer: "a query result",
            // The longest a query may run; without it the service stops at 3 minutes.
            headers: &[("Prefer", "wait=600")],
        };
        let body = self.requester.send(&request).await.map_err(refusal)?;
        let answer = if body.is_empty() {
            Answer::default()
        } else {
            answer::read(&body).map_err(|why| {
                FetchError::QueryRefused(format!("the query result of {window}: {why}"))
            })?
        };
        self.requester.count_page(answer.rows.len());
        Ok(answer)
    }
}

/// A refusal that retrying cannot fix: 401 after renewals and 403 are sign-in problems.
fn refusal(error: FetchError) -> FetchError {
    match error {
        FetchError::Refused(error) if matches!(error.status, 401 | 403) => FetchError::Auth(
            format!("Log Analytics refused access: {error}; {LOGS_AUTH_HINT}"),
        ),
        FetchError::Refused(error) => FetchError::QueryRefused(error.to_string()),
        other => other,
    }
}
