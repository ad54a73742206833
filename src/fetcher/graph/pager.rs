//! Pages through `/auditLogs/directoryAudits`: builds the queries of a fetch (the services' rows
//! in one query, their services joined by `or`, then the Core Directory `Reset user password`
//! rows, both over the same window), follows each query's `@odata.nextLink` verbatim until it
//! is absent, and gets each page through the [`Requester`] (limiter, token, retries).
//! When Graph answers 400 to the first page of the `or` query, one query per service replaces
//! it, each paged to its end. An empty page with a nextLink continues; a nextLink seen twice,
//! or pointing anywhere but the Graph host, stops the run (the bearer token is only ever sent
//! to the configured Graph host).

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use tracing::{debug, info};
use url::Url;

use super::auth::TokenSource;
pub use super::requester::FetchStats;
use super::requester::{Request, Requester, refusal};
use super::retry::RetryPolicy;
use super::throttle::RateLimit;
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
    requester: Requester,
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
}

#[derive(Deserialize)]
struct PageBody<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// Whether a body is JSON.
fn is_json(body: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<&RawValue>(body)
        .map(drop)
        .map_err(|err| err.to_string())
}

/// Whether a body is a Graph page.
fn is_page(body: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<PageBody<'_>>(body)
        .map(drop)
        .map_err(|err| err.to_string())
}

impl Pager {
    /// The tenant signed in to (see [`TokenSource::tenant`]).
    pub async fn tenant(&self) -> Option<String> {
        self.requester.tenant().await
    }

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
            requester: Requester::new(http, tokens, throttle, retry, cancel),
            graph_url,
            next: None,
            seen: HashSet::new(),
        }
    }

    /// A pager with no list of its own, for single requests through [`Pager::get_json`],
    /// [`Pager::get_object`] and [`Pager::post_json`] under one limiter and one retry budget.
    pub fn requests(connection: Connection) -> Pager {
        Pager::of_queries(VecDeque::new(), connection)
    }

    /// The base URL every request goes to.
    pub fn graph_url(&self) -> &Url {
        &self.graph_url
    }

    /// GETs one list page (`{"value": [...], "@odata.nextLink"?}`); returns the body and the
    /// next page's URL, checked as [`Pager::next_page`] checks it. A refusal comes back as
    /// [`FetchError::Refused`] with Graph's status, for the caller to degrade.
    pub async fn get_json(&mut self, url: &Url) -> Result<(Vec<u8>, Option<Url>), FetchError> {
        let body = self.send(Method::GET, url, None, &is_page).await?;
        let page: PageBody<'_> =
            serde_json::from_slice(&body).expect("the requester returns checked pages only");
        let next = match page.next_link.as_deref() {
            Some(link) => Some(self.check_next_link(url, link)?),
            None => None,
        };
        Ok((body, next))
    }

    /// GETs one object and returns its JSON.
    pub async fn get_object(&mut self, url: &Url) -> Result<Vec<u8>, FetchError> {
        self.send(Method::GET, url, None, &is_json).await
    }

    /// POSTs `body` as JSON (a report action) and returns the JSON answer.
    pub async fn post_json(
        &mut self,
        url: &Url,
        body: &serde_json::Value,
    ) -> Result<Vec<u8>, FetchError> {
        self.send(Method::POST, url, Some(body), &is_json).await
    }

    /// One request through the requester; refusals as Graph said them.
    async fn send(
        &mut self,
        method: Method,
        url: &Url,
        json: Option<&serde_json::Value>,
        check: &(dyn Fn(&[u8]) -> Result<(), String> + Sync),
    ) -> Result<Vec<u8>, FetchError> {
        let request = Request {
            method,
            url,
            json,
            check,
            answer: "a Graph answer",
            headers: &[],
        };
        self.requester.send(&request).await
    }

    pub fn stats(&self) -> &FetchStats {
        self.requester.stats()
    }

    /// The next page's body (checked to be a page); `None` after the last page of the last
    /// query.
    async fn next_body(&mut self) -> Result<Option<Vec<u8>>, FetchError> {
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
            let request = Request {
                method: Method::GET,
                url: &url,
                json: None,
                check: &is_page,
                answer: "a Graph page",
                headers: &[],
            };
            match self.requester.send(&request).await {
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
                Err(err) => return Err(refusal(err)),
            }
        };
        let page: PageBody<'_> =
            serde_json::from_slice(&body).expect("the requester returns checked pages only");
        if let Some(link) = page.next_link.as_deref() {
            self.next = Some(self.check_next_link(&url, link));
        }
        Ok(Some(body))
    }

    /// The next page of a list, its entries as JSON; `None` after the last.
    pub async fn next_values(&mut self) -> Result<Option<Vec<serde_json::Value>>, FetchError> {
        let Some(body) = self.next_body().await? else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Values {
            value: Vec<serde_json::Value>,
        }
        let page: Values = serde_json::from_slice(&body)
            .map_err(|err| FetchError::Setup(format!("a Graph page's values: {err}")))?;
        self.requester.count_page(page.value.len());
        Ok(Some(page.value))
    }

    /// The next page of audit records, or `None` after the last page of the last query.
    pub async fn next_page(&mut self) -> Result<Option<FetchedPage>, FetchError> {
        let Some(body) = self.next_body().await? else {
            return Ok(None);
        };
        let page: PageBody<'_> =
            serde_json::from_slice(&body).expect("the requester returns checked pages only");
        let mut records = Vec::with_capacity(page.value.len());
        let mut rejects = Vec::new();
        for (index, raw) in page.value.iter().enumerate() {
            let bytes = raw.get().as_bytes();
            match record::decode(bytes) {
                Ok(record) => records.push(FetchedRecord {
                    record,
                    raw: bytes.to_vec(),
                }),
                Err(reason) => rejects.push(PageReject {
                    index,
                    reason,
                    raw: bytes.to_vec(),
                }),
            }
        }
        self.requester.count_page(records.len());
        let number = self.requester.stats().pages;
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
            throttle: "5/10s".parse().unwrap(),
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
