//! Pages through `/auditLogs/directoryAudits`: builds the first request, follows
//! `@odata.nextLink` verbatim until it is absent, and gets each page through the limiter, the
//! token source and the retry policy. An empty page with a nextLink continues; a nextLink seen
//! twice, or pointing anywhere but the Graph host, stops the run (the bearer token is only ever
//! sent to the configured Graph host).
//!
//! The same retry loop serves other Graph reads one request at a time ([`Pager::requests`],
//! [`Pager::get_json`], [`Pager::get_object`], [`Pager::post_json`]): a refusal then comes back as
//! [`FetchError::Refused`] with Graph's status, so the caller can degrade instead of failing.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use azure_core::credentials::Secret;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use tracing::{debug, info};
use url::Url;

use super::auth::{AUTH_HINT, TokenError, TokenSource};
use super::retry::{GraphError, RetryPolicy, Verdict, classify, snippet};
use super::throttle::{Limiter, RateLimit};
use super::{Cancel, FetchError};
use crate::fetcher::record;
use crate::model::AuditRecord;

/// What to fetch and how politely.
#[derive(Debug, Clone)]
pub struct GraphQuery {
    pub graph_url: Url,
    /// The `loggedByService` filter value.
    pub service: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub page_size: u32,
    pub throttle: RateLimit,
    pub retry: RetryPolicy,
}

impl GraphQuery {
    /// The first request: `$filter` on service and time window, `$top` the page size.
    pub fn first_url(&self) -> Result<Url, String> {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let filter = format!(
            "loggedByService eq '{}' and activityDateTime ge {} and activityDateTime le {}",
            self.service.replace('\'', "''"),
            time(self.since),
            time(self.until)
        );
        let mut url = self.graph_url.clone();
        url.path_segments_mut()
            .map_err(|()| format!("--graph-url {} cannot take a path", self.graph_url))?
            .pop_if_empty()
            .extend(["v1.0", "auditLogs", "directoryAudits"]);
        let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        url.set_query(Some(&format!(
            "$filter={}&$top={}",
            encoded.replace('+', "%20"),
            self.page_size
        )));
        Ok(url)
    }
}

/// One record as fetched: decoded, and its verbatim JSON.
pub struct FetchedRecord {
    pub record: AuditRecord,
    pub raw: Vec<u8>,
}

/// A record of a page that could not be decoded.
pub struct PageReject {
    pub index: usize,
    pub reason: String,
    pub raw: Vec<u8>,
}

pub struct FetchedPage {
    /// 1 for the first page.
    pub number: u32,
    pub records: Vec<FetchedRecord>,
    pub rejects: Vec<PageReject>,
}

/// Counters for progress and the closing summary.
#[derive(Debug, Default, Clone)]
pub struct FetchStats {
    pub requests: u32,
    pub pages: u32,
    pub records: u64,
    pub retries: u32,
    pub throttled: u32,
    pub token_renewals: u32,
    /// Time spent waiting for the limiter and for retries.
    pub waited: Duration,
}

pub struct Pager {
    http: reqwest::Client,
    tokens: TokenSource,
    limiter: Limiter,
    policy: RetryPolicy,
    graph_url: Url,
    /// The next page to get, or why the last page's nextLink was refused: the records of that
    /// page are handed out first.
    next: Option<Result<Url, FetchError>>,
    seen: HashSet<String>,
    budget_left: Duration,
    stats: FetchStats,
    cancel: Cancel,
}

/// Fresh tokens one request may try after Graph answers 401 (a token can expire in flight).
const MAX_RENEWALS: u32 = 3;

#[derive(Deserialize)]
struct PageBody<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// One request to send: a GET, or a POST with a JSON body; `page` when the answer must be a
/// list page (`value` and maybe a nextLink), else any JSON value will do.
struct Call<'a> {
    url: &'a Url,
    body: Option<&'a serde_json::Value>,
    page: bool,
}

/// Why one try of a request did not produce a page.
enum TryFailure {
    Verdict(Verdict),
    Network(String),
}

impl Pager {
    pub fn new(
        query: &GraphQuery,
        http: reqwest::Client,
        tokens: TokenSource,
        cancel: Cancel,
    ) -> Result<Pager, FetchError> {
        let first = query.first_url().map_err(FetchError::Setup)?;
        Ok(Pager {
            http,
            tokens,
            limiter: Limiter::new(query.throttle),
            policy: query.retry,
            graph_url: query.graph_url.clone(),
            next: Some(Ok(first)),
            seen: HashSet::new(),
            budget_left: query.retry.budget,
            stats: FetchStats::default(),
            cancel,
        })
    }

    /// A pager with no list of its own, for single requests through [`Pager::get_json`] and
    /// [`Pager::post_json`] under one limiter and one retry budget.
    pub fn requests(
        graph_url: Url,
        throttle: RateLimit,
        retry: RetryPolicy,
        http: reqwest::Client,
        tokens: TokenSource,
        cancel: Cancel,
    ) -> Pager {
        Pager {
            http,
            tokens,
            limiter: Limiter::new(throttle),
            policy: retry,
            graph_url,
            next: None,
            seen: HashSet::new(),
            budget_left: retry.budget,
            stats: FetchStats::default(),
            cancel,
        }
    }

    pub fn stats(&self) -> &FetchStats {
        &self.stats
    }

    /// The base URL every request goes to.
    pub fn graph_url(&self) -> &Url {
        &self.graph_url
    }

    /// GETs one list page (`{"value": [...], "@odata.nextLink"?}`); returns the body and the
    /// next page's URL, checked as [`Pager::next_page`] checks it.
    pub async fn get_json(&mut self, url: &Url) -> Result<(Vec<u8>, Option<Url>), FetchError> {
        let call = Call {
            url,
            body: None,
            page: true,
        };
        let body = self.send(&call).await?;
        let page: PageBody<'_> =
            serde_json::from_slice(&body).expect("send returns parsed pages only");
        let next = match page.next_link.as_deref() {
            Some(link) => Some(self.check_next_link(url, link)?),
            None => None,
        };
        Ok((body, next))
    }

    /// GETs one object and returns its JSON.
    pub async fn get_object(&mut self, url: &Url) -> Result<Vec<u8>, FetchError> {
        let call = Call {
            url,
            body: None,
            page: false,
        };
        self.send(&call).await
    }

    /// POSTs `body` as JSON (a report action) and returns the JSON answer.
    pub async fn post_json(
        &mut self,
        url: &Url,
        body: &serde_json::Value,
    ) -> Result<Vec<u8>, FetchError> {
        let call = Call {
            url,
            body: Some(body),
            page: false,
        };
        self.send(&call).await
    }

    /// The next page, or `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<FetchedPage>, FetchError> {
        let Some(next) = self.next.take() else {
            return Ok(None);
        };
        let url = next?;
        let call = Call {
            url: &url,
            body: None,
            page: true,
        };
        let body = self.send(&call).await.map_err(|err| match err {
            FetchError::Refused(error) => refusal(error),
            other => other,
        })?;
        let page: PageBody<'_> =
            serde_json::from_slice(&body).expect("get_page returns parsed pages only");
        self.stats.pages += 1;
        let number = self.stats.pages;
        if let Some(link) = page.next_link.as_deref() {
            self.next = Some(self.check_next_link(&url, link));
        }
        let mut records = Vec::with_capacity(page.value.len());
        let mut rejects = Vec::new();
        for (index, raw) in page.value.iter().enumerate() {
            let bytes = raw.get().as_bytes();
            match record::decode(bytes) {
                Ok(record) => records.push(FetchedRecord {
                    record,
                    raw: bytes.to_vec(),
                }),
                Err(err) => rejects.push(PageReject {
                    index,
                    reason: format!("invalid record: {err}"),
                    raw: bytes.to_vec(),
                }),
            }
        }
        self.stats.records += records.len() as u64;
        debug!(
            "page {number}: {} records, next link: {}",
            records.len(),
            self.next.is_some()
        );
        Ok(Some(FetchedPage {
            number,
            records,
            rejects,
        }))
    }

    fn check_next_link(&mut self, current: &Url, link: &str) -> Result<Url, FetchError> {
        // Graph's links are absolute; a relative one is read against the page it came from.
        let url = current.join(link).map_err(|err| {
            FetchError::NextLink(format!(
                "Graph returned a nextLink that is not a URL ({err}): {link}"
            ))
        })?;
        if url.origin() != self.graph_url.origin() {
            return Err(FetchError::NextLink(format!(
                "Graph returned a nextLink to {}, not to the Graph host {}; refused (the token is only sent to the Graph host)",
                url.origin().ascii_serialization(),
                self.graph_url.origin().ascii_serialization()
            )));
        }
        if !self.seen.insert(link.to_owned()) {
            return Err(FetchError::NextLink(format!(
                "Graph returned the same nextLink twice; stopped to avoid a loop: {link}"
            )));
        }
        Ok(url)
    }

    /// Sends one request, retrying within the policy; returns a body of the shape asked for.
    async fn send(&mut self, call: &Call<'_>) -> Result<Vec<u8>, FetchError> {
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
                    match self.try_once(call, &token).await? {
                        Ok(body) => {
                            self.limiter.succeeded();
                            return Ok(body);
                        }
                        Err(failure) => failure,
                    }
                }
                Err(err) if err.transient => TryFailure::Network(err.message),
                Err(err) => return Err(FetchError::Auth(format!("{}; {AUTH_HINT}", err.message))),
            };
            let (after, why) = match failure {
                TryFailure::Network(why) => (None, why),
                TryFailure::Verdict(Verdict::Fail(error)) => {
                    return Err(FetchError::Refused(error));
                }
                TryFailure::Verdict(Verdict::RenewToken(error)) => {
                    if renewals == MAX_RENEWALS {
                        return Err(FetchError::Auth(format!(
                            "Graph refused {MAX_RENEWALS} fresh tokens in a row: {error}; {AUTH_HINT}"
                        )));
                    }
                    renewals += 1;
                    self.stats.token_renewals += 1;
                    info!("Graph refused the token ({error}); renewing it");
                    self.tokens.renew().map_err(FetchError::Auth)?;
                    attempt -= 1;
                    continue;
                }
                TryFailure::Verdict(Verdict::Retry {
                    after,
                    why,
                    throttled,
                }) => {
                    if throttled {
                        // Every request waits out the throttle in the limiter, not only this one;
                        // the pause counts against the budget below.
                        let pause = after.unwrap_or_else(|| self.policy.backoff(attempt));
                        self.stats.throttled += 1;
                        self.limiter.throttled(Instant::now(), Some(pause));
                        info!(
                            "throttled by Graph ({why}); pausing {:.2}s, now at most {} requests per window",
                            pause.as_secs_f64(),
                            self.limiter.allowed()
                        );
                        (Some(Duration::ZERO), why)
                    } else {
                        (after, why)
                    }
                }
            };
            if attempt >= self.policy.max_attempts {
                return Err(FetchError::Exhausted(format!(
                    "{attempt} tries of {} failed; the last: {why}",
                    describe(call)
                )));
            }
            let wait = after.unwrap_or_else(|| self.policy.backoff(attempt));
            let pending_pause = self.limiter.delay(Instant::now());
            // The failed try's own time counts too: a Graph that never answers costs a timeout
            // per try, and the budget bounds the whole run.
            let charged = tried.elapsed() + wait.max(pending_pause);
            if charged > self.budget_left {
                return Err(FetchError::Exhausted(format!(
                    "the retry budget ({:?}) is spent; the last failure of {}: {why}",
                    self.policy.budget,
                    describe(call)
                )));
            }
            self.budget_left -= charged;
            self.stats.retries += 1;
            debug!(
                "retrying {} in {:.2}s: {why}",
                describe(call),
                wait.as_secs_f64()
            );
            self.pause(wait).await?;
        }
    }

    /// A token for the next try; `Err` is cancellation (a token endpoint that does not answer
    /// must not hold up a signal until the request times out).
    async fn token(&mut self) -> Result<Result<Secret, TokenError>, FetchError> {
        tokio::select! {
            token = self.tokens.token() => Ok(token),
            () = self.cancel.cancelled() => Err(FetchError::Interrupted),
        }
    }

    /// Sends one request; `Ok(Err(_))` is a failure to classify, `Err` is cancellation.
    async fn try_once(
        &mut self,
        call: &Call<'_>,
        token: &Secret,
    ) -> Result<Result<Vec<u8>, TryFailure>, FetchError> {
        let request = match call.body {
            Some(body) => self.http.post(call.url.clone()).json(body),
            None => self.http.get(call.url.clone()),
        };
        let request = request
            .bearer_auth(token.secret())
            .header("Accept", "application/json")
            .send();
        let response = tokio::select! {
            response = request => response,
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
            header("request-id"),
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
        let parsed = if call.page {
            serde_json::from_slice::<PageBody<'_>>(&body).map(drop)
        } else {
            serde_json::from_slice::<&RawValue>(&body).map(drop)
        };
        let not_a_page = match parsed {
            Ok(()) if status == 200 => return Ok(Ok(body.to_vec())),
            Ok(()) => None,
            Err(err) => Some(err.to_string()),
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
                    "a redirect to {}, not followed (the token is only sent to the Graph host)",
                    location.as_deref().unwrap_or("nowhere")
                )),
                request_id,
            }))));
        }
        if status != 200 {
            return Ok(Err(TryFailure::Verdict(classify(
                status,
                retry_after.as_deref(),
                request_id.as_deref(),
                &body,
            ))));
        }
        Ok(Err(TryFailure::Network(format!(
            "HTTP 200 with a body that is not a Graph page ({}, {} bytes: {}): {}",
            content_type.as_deref().unwrap_or("no content type"),
            body.len(),
            String::from_utf8_lossy(&without_token(
                not_a_page.unwrap_or_default().as_bytes(),
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
fn without_token(body: &[u8], token: &[u8]) -> Vec<u8> {
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

/// A refusal that retrying cannot fix. 401 after a renewal and 403 are authorisation problems.
fn refusal(error: GraphError) -> FetchError {
    match error.status {
        401 | 403 => FetchError::Auth(format!("Graph refused access: {error}; {AUTH_HINT}")),
        _ => FetchError::Refused(error),
    }
}

/// A failed request's kind and causes; its URL is left out (messages name the request without
/// its query, see [`describe`]).
fn network_error(err: reqwest::Error) -> String {
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

/// A request for messages: the method and path; the query (filters, skiptokens) is left out.
fn describe(call: &Call<'_>) -> String {
    let method = if call.body.is_some() { "POST" } else { "GET" };
    let url = call.url;
    format!(
        "{method} {}{}",
        url.origin().ascii_serialization(),
        url.path()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_url_filters_service_and_window() {
        let query = GraphQuery {
            graph_url: Url::parse("https://graph.microsoft.com").unwrap(),
            service: "Self-service Password Management".into(),
            since: "2026-09-20T00:00:00Z".parse().unwrap(),
            until: "2026-11-05T00:00:00.9Z".parse().unwrap(),
            page_size: 200,
            throttle: RateLimit::GRAPH_REPORTS,
            retry: RetryPolicy::default(),
        };
        let url = query.first_url().unwrap();
        assert_eq!(
            url.as_str(),
            "https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$filter=loggedByService%20eq%20%27Self-service%20Password%20Management%27%20and%20activityDateTime%20ge%202026-09-20T00%3A00%3A00Z%20and%20activityDateTime%20le%202026-11-05T00%3A00%3A00Z&$top=200"
        );
        let decoded: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(
            decoded[0].1,
            "loggedByService eq 'Self-service Password Management' and activityDateTime ge 2026-09-20T00:00:00Z and activityDateTime le 2026-11-05T00:00:00Z"
        );
        let proxied = GraphQuery {
            graph_url: Url::parse("https://proxy.example/graph").unwrap(),
            ..query
        };
        assert!(
            proxied
                .first_url()
                .unwrap()
                .as_str()
                .starts_with("https://proxy.example/graph/v1.0/auditLogs/directoryAudits?")
        );
    }
}
