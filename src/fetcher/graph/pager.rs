//! Pages through `/auditLogs/directoryAudits`: builds the first request, follows
//! `@odata.nextLink` verbatim until it is absent, and gets each page through the [`Requester`]
//! (limiter, token, retries). An empty page with a nextLink continues; a nextLink seen
//! twice, or pointing anywhere but the Graph host, stops the run (the bearer token is only ever
//! sent to the configured Graph host).

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use tracing::debug;
use url::Url;

use super::auth::TokenSource;
pub use super::requester::FetchStats;
use super::requester::{Request, Requester, refusal};
use super::retry::RetryPolicy;
use super::throttle::RateLimit;
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

pub struct Pager {
    requester: Requester,
    graph_url: Url,
    /// The next page to get, or why the last page's nextLink was refused: the records of that
    /// page are handed out first.
    next: Option<Result<Url, FetchError>>,
    seen: HashSet<String>,
}

#[derive(Deserialize)]
struct PageBody<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// Whether a body is a Graph page.
fn is_page(body: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<PageBody<'_>>(body)
        .map(drop)
        .map_err(|err| err.to_string())
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
            requester: Requester::new(http, tokens, query.throttle, query.retry, cancel),
            graph_url: query.graph_url.clone(),
            next: Some(Ok(first)),
            seen: HashSet::new(),
        })
    }

    pub fn stats(&self) -> &FetchStats {
        self.requester.stats()
    }

    /// The next page, or `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<FetchedPage>, FetchError> {
        let Some(next) = self.next.take() else {
            return Ok(None);
        };
        let url = next?;
        let body = self
            .requester
            .send(&Request {
                method: Method::GET,
                url: &url,
                json: None,
                check: &is_page,
                answer: "a Graph page",
            })
            .await
            .map_err(refusal)?;
        let page: PageBody<'_> =
            serde_json::from_slice(&body).expect("the requester returns checked pages only");
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

    #[test]
    fn the_first_url_filters_service_and_window() {
        let query = GraphQuery {
            graph_url: Url::parse("https://graph.microsoft.com").unwrap(),
            service: "Self-service Password Management".into(),
            since: "2026-09-20T00:00:00Z".parse().unwrap(),
            until: "2026-11-05T00:00:00.9Z".parse().unwrap(),
            page_size: 200,
            throttle: "5/10s".parse().unwrap(),
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
