//! Pages through `/auditLogs/directoryAudits`: builds the queries of a fetch (the services' rows
//! in one query, their services joined by `or`, then the Core Directory `Reset user password`
//! rows, both over the same window), follows each query's `@odata.nextLink` verbatim until it
//! is absent, and gets each page through the limiter, the token source and the retry policy.
//! When Graph answers 400 to the first page of the `or` query, one query per service replaces
//! it, each paged to its end. An empty page with a nextLink continues; a nextLink seen twice,
//! or pointing anywhere but the Graph host, stops the run (the bearer token is only ever sent
//! to the configured Graph host).

use std::collections::{HashSet, VecDeque};
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

/// The services whose rows a fetch reads by default: the classic SSPR service and the one the
/// newer SSPR experience also logs under.
pub const DEFAULT_SERVICES: [&str; 2] =
    ["Self-service Password Management", "Authentication Methods"];

/// The service and activity of the helpdesk resets made outside the portal.
const DIRECTORY_RESETS: (&str, &str) = ("Core Directory", "Reset user password");

/// What to fetch and how politely.
#[derive(Debug, Clone)]
pub struct GraphQuery {
    pub graph_url: Url,
    /// The `loggedByService` filter values (at least one).
    pub services: Vec<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub page_size: u32,
    pub throttle: RateLimit,
    pub retry: RetryPolicy,
}

/// One query of a fetch: its first page, and the queries that replace it when Graph answers
/// its first page with 400 (a filter it cannot take).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub first: Url,
    pub fallback: Vec<Url>,
}

impl GraphQuery {
    /// The queries of a fetch, in order: the services' rows (every service in one query,
    /// one query per service as its fallback), then the Core Directory resets.
    pub fn queries(&self) -> Result<Vec<Query>, String> {
        let service = |name: &str| format!("loggedByService eq {}", quoted(name));
        let services = match self.services.as_slice() {
            [] => return Err("no --service to fetch".to_owned()),
            [one] => Query {
                first: self.url(&service(one))?,
                fallback: Vec::new(),
            },
            many => {
                let any: Vec<String> = many.iter().map(|name| service(name)).collect();
                Query {
                    first: self.url(&format!("({})", any.join(" or ")))?,
                    fallback: any
                        .iter()
                        .map(|clause| self.url(clause))
                        .collect::<Result<_, _>>()?,
                }
            }
        };
        let (directory, activity) = DIRECTORY_RESETS;
        let resets = Query {
            first: self.url(&format!(
                "{} and activityDisplayName eq {}",
                service(directory),
                quoted(activity)
            ))?,
            fallback: Vec::new(),
        };
        Ok(vec![services, resets])
    }

    /// The first page of the rows `selection` filters within the window, `$top` the page size.
    fn url(&self, selection: &str) -> Result<Url, String> {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let filter = format!(
            "{selection} and activityDateTime ge {} and activityDateTime le {}",
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

/// An OData string literal: quoted, a quote doubled.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
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

/// What every request of a pager goes through: the Graph host, the limiter's rate, the retry
/// policy, the HTTP client, the token source and the cancellation.
pub struct Connection {
    pub graph_url: Url,
    pub throttle: RateLimit,
    pub retry: RetryPolicy,
    pub http: reqwest::Client,
    pub tokens: TokenSource,
    pub cancel: Cancel,
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
    /// What replaces `next` when Graph answers it with 400: set while `next` is the first page
    /// of a query that has a fallback.
    fallback: Vec<Url>,
    /// The queries after the current one.
    queries: VecDeque<Query>,
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
        let queries = query.queries().map_err(FetchError::Setup)?;
        let connection = Connection {
            graph_url: query.graph_url.clone(),
            throttle: query.throttle,
            retry: query.retry,
            http,
            tokens,
            cancel,
        };
        Ok(Pager::of_queries(queries.into(), connection))
    }

    /// Pages through any Graph list: `first` and the nextLinks after it.
    pub fn of_list(first: Url, connection: Connection) -> Pager {
        Pager::of_queries(
            VecDeque::from([Query {
                first,
                fallback: Vec::new(),
            }]),
            connection,
        )
    }

    fn of_queries(queries: VecDeque<Query>, connection: Connection) -> Pager {
        let Connection {
            graph_url,
            throttle,
            retry,
            http,
            tokens,
            cancel,
        } = connection;
        Pager {
            fallback: Vec::new(),
            queries,
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

    /// The next page's body (parsed as a page once), its number and URL; `None` after the last
    /// page of the last query.
    async fn next_body(&mut self) -> Result<Option<(u32, Vec<u8>)>, FetchError> {
        let (url, body) = loop {
            let next = match (self.next.take(), self.queries.pop_front()) {
                (Some(next), query) => {
                    if let Some(query) = query {
                        self.queries.push_front(query);
                    }
                    next
                }
                (None, Some(query)) => {
                    self.fallback = query.fallback;
                    Ok(query.first)
                }
                (None, None) => return Ok(None),
            };
            let url = next?;
            let fallback = std::mem::take(&mut self.fallback);
            match self.get_page(&url).await {
                Ok(body) => break (url, body),
                Err(FetchError::Refused(error)) if error.status == 400 && !fallback.is_empty() => {
                    info!(
                        "Graph refused the services joined by `or` ({error}); one query per service instead"
                    );
                    for first in fallback.into_iter().rev() {
                        self.queries.push_front(Query {
                            first,
                            fallback: Vec::new(),
                        });
                    }
                }
                Err(err) => return Err(err),
            }
        };
        let page: PageBody<'_> =
            serde_json::from_slice(&body).expect("get_page returns parsed pages only");
        self.stats.pages += 1;
        if let Some(link) = page.next_link.as_deref() {
            self.next = Some(self.check_next_link(&url, link));
        }
        Ok(Some((self.stats.pages, body)))
    }

    /// The next page of a list, its entries as JSON; `None` after the last.
    pub async fn next_values(&mut self) -> Result<Option<Vec<serde_json::Value>>, FetchError> {
        let Some((_, body)) = self.next_body().await? else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Values {
            value: Vec<serde_json::Value>,
        }
        let page: Values =
            serde_json::from_slice(&body).expect("get_page returns parsed pages only");
        self.stats.records += page.value.len() as u64;
        Ok(Some(page.value))
    }

    /// The next page of audit records, or `None` after the last page of the last query.
    pub async fn next_page(&mut self) -> Result<Option<FetchedPage>, FetchError> {
        let Some((number, body)) = self.next_body().await? else {
            return Ok(None);
        };
        let page: PageBody<'_> =
            serde_json::from_slice(&body).expect("get_page returns parsed pages only");
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

    /// Gets one page, retrying within the policy; returns a body that parses as a page.
    async fn get_page(&mut self, url: &Url) -> Result<Vec<u8>, FetchError> {
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
                    match self.try_once(url, &token).await? {
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
                TryFailure::Verdict(Verdict::Fail(error)) => return Err(refusal(error)),
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
                    describe(url)
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
                    describe(url)
                )));
            }
            self.budget_left -= charged;
            self.stats.retries += 1;
            debug!(
                "retrying {} in {:.2}s: {why}",
                describe(url),
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
        url: &Url,
        token: &Secret,
    ) -> Result<Result<Vec<u8>, TryFailure>, FetchError> {
        let request = self
            .http
            .get(url.clone())
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
        let not_a_page = match serde_json::from_slice::<PageBody<'_>>(&body) {
            Ok(_) if status == 200 => return Ok(Ok(body.to_vec())),
            Ok(_) => None,
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

/// A URL for messages: the path and the skiptoken-free part of the query are enough.
fn describe(url: &Url) -> String {
    format!("GET {}{}", url.origin().ascii_serialization(), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(services: &[&str]) -> GraphQuery {
        GraphQuery {
            graph_url: Url::parse("https://graph.microsoft.com").unwrap(),
            services: services.iter().map(|name| (*name).to_owned()).collect(),
            since: "2026-09-20T00:00:00Z".parse().unwrap(),
            until: "2026-11-05T00:00:00.9Z".parse().unwrap(),
            page_size: 200,
            throttle: RateLimit::GRAPH_REPORTS,
            retry: RetryPolicy::default(),
        }
    }

    /// The decoded `$filter` of a URL.
    fn filter(url: &Url) -> String {
        url.query_pairs()
            .find(|(key, _)| key == "$filter")
            .map(|(_, value)| value.into_owned())
            .unwrap()
    }

    const WINDOW: &str =
        "activityDateTime ge 2026-09-20T00:00:00Z and activityDateTime le 2026-11-05T00:00:00Z";

    #[test]
    fn the_first_url_filters_service_and_window() {
        let query = query(&["Self-service Password Management"]);
        let queries = query.queries().unwrap();
        assert_eq!(
            queries[0].first.as_str(),
            "https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$filter=loggedByService%20eq%20%27Self-service%20Password%20Management%27%20and%20activityDateTime%20ge%202026-09-20T00%3A00%3A00Z%20and%20activityDateTime%20le%202026-11-05T00%3A00%3A00Z&$top=200"
        );
        assert!(queries[0].fallback.is_empty());
        let proxied = GraphQuery {
            graph_url: Url::parse("https://proxy.example/graph").unwrap(),
            ..query
        };
        assert!(
            proxied.queries().unwrap()[0]
                .first
                .as_str()
                .starts_with("https://proxy.example/graph/v1.0/auditLogs/directoryAudits?")
        );
    }

    #[test]
    fn services_are_joined_by_or_with_one_query_each_as_fallback_then_directory_resets() {
        let queries = query(&DEFAULT_SERVICES).queries().unwrap();
        assert_eq!(queries.len(), 2);
        assert_eq!(
            filter(&queries[0].first),
            format!(
                "(loggedByService eq 'Self-service Password Management' or loggedByService eq 'Authentication Methods') and {WINDOW}"
            )
        );
        let fallback: Vec<String> = queries[0].fallback.iter().map(filter).collect();
        assert_eq!(
            fallback,
            [
                format!("loggedByService eq 'Self-service Password Management' and {WINDOW}"),
                format!("loggedByService eq 'Authentication Methods' and {WINDOW}"),
            ]
        );
        assert_eq!(
            filter(&queries[1].first),
            format!(
                "loggedByService eq 'Core Directory' and activityDisplayName eq 'Reset user password' and {WINDOW}"
            )
        );
        assert!(queries[1].fallback.is_empty());
        assert_eq!(
            filter(&query(&["O'Brien"]).queries().unwrap()[0].first),
            format!("loggedByService eq 'O''Brien' and {WINDOW}")
        );
        assert!(query(&[]).queries().is_err());
    }
}
