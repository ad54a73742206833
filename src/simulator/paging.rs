//! The served records and how they are paged: the records matching a filter newest first,
//! `$top` at a time, each page but the last pointing to the next with an `@odata.nextLink`.
//!
//! The skiptoken is stateless and opaque: it seals the position (how many matching records lie
//! before the page, and the page's number in the chain) under a key only this simulator holds,
//! bound to the filter it was issued for. Following the same nextLink twice serves the same
//! page, and nothing a fault or another client does moves it. A token that was altered, made
//! up, or comes with another filter is refused.

use std::cmp::Reverse;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::query::{AuditQuery, Filtered};
use super::random::{SecretSource, hex};

/// Page size when the request gives no `$top` (Graph's default for directoryAudits).
const DEFAULT_PAGE_SIZE: usize = 100;

/// The records, sorted once: newest first, ties by id (descending), records without a
/// readable `activityDateTime` last.
pub(super) struct RecordStore {
    records: Vec<StoredRecord>,
}

struct StoredRecord {
    time: Option<DateTime<Utc>>,
    id: Option<String>,
    service: Option<String>,
    activity: Option<String>,
    /// The record's JSON text, served as is.
    json: String,
}

/// Where a page begins in the list of matching records.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Position {
    /// Matching records before the page.
    offset: u64,
    /// The page's number in its chain, from 1.
    page: u64,
}

/// How pages are cut.
pub(super) struct PagingRules {
    pub max_page_size: usize,
    /// Every n-th page is empty but has a nextLink (0 = never).
    pub empty_page_every: usize,
}

/// What a page's links point at: the server's base URL and the API version asked for.
pub(super) struct PageLinks<'a> {
    pub base_url: &'a str,
    pub version: &'a str,
}

/// A rendered page: the response body and how many records it holds.
pub(super) struct Page {
    pub body: String,
    pub records: usize,
}

#[derive(Debug, PartialEq, thiserror::Error)]
#[error("The $skiptoken is invalid or was issued for another query.")]
pub(super) struct InvalidSkiptoken;

impl RecordStore {
    pub fn new(records: Vec<serde_json::Value>) -> Self {
        let mut records: Vec<StoredRecord> = records
            .into_iter()
            .map(|record| {
                let text = |field| record.get(field).and_then(serde_json::Value::as_str);
                StoredRecord {
                    time: text("activityDateTime").and_then(parse_time),
                    id: text("id").map(str::to_owned),
                    service: text("loggedByService").map(str::to_owned),
                    activity: text("activityDisplayName").map(str::to_owned),
                    json: record.to_string(),
                }
            })
            .collect();
        records.sort_by(|a, b| {
            (a.time.is_none(), Reverse(a.time), Reverse(&a.id)).cmp(&(
                b.time.is_none(),
                Reverse(b.time),
                Reverse(&b.id),
            ))
        });
        RecordStore { records }
    }

    /// The page `query` asks for, or why its skiptoken is refused.
    pub fn page(
        &self,
        query: &AuditQuery,
        rules: &PagingRules,
        links: &PageLinks,
        secrets: &SecretSource,
    ) -> Result<Page, InvalidSkiptoken> {
        let filter_text = query.filter_text.as_deref().unwrap_or("");
        let position = match &query.skiptoken {
            Some(token) => open(token, filter_text, secrets)?,
            None => Position { offset: 0, page: 1 },
        };
        let top = query
            .top
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .min(rules.max_page_size);
        let mut rest = self
            .records
            .iter()
            .filter(|record| {
                query.filter.matches(Filtered {
                    time: record.time,
                    service: record.service.as_deref(),
                    activity: record.activity.as_deref(),
                })
            })
            .skip(usize::try_from(position.offset).unwrap_or(usize::MAX))
            .peekable();
        let empty_page = rules.empty_page_every > 0
            && position.page.is_multiple_of(rules.empty_page_every as u64)
            && rest.peek().is_some();
        let served: Vec<&StoredRecord> = if empty_page {
            Vec::new()
        } else {
            rest.by_ref().take(top).collect()
        };
        let next = (rest.peek().is_some()).then(|| Position {
            offset: position.offset + served.len() as u64,
            page: position.page + 1,
        });

        let mut body =
            String::with_capacity(256 + served.iter().map(|r| r.json.len() + 1).sum::<usize>());
        body.push_str("{\"@odata.context\":");
        body.push_str(&json_string(&format!(
            "{}/{}/$metadata#auditLogs/directoryAudits",
            links.base_url, links.version
        )));
        body.push_str(",\"value\":[");
        for (index, record) in served.iter().enumerate() {
            if index > 0 {
                body.push(',');
            }
            body.push_str(&record.json);
        }
        body.push(']');
        if let Some(next) = next {
            let mut link = format!(
                "{}/{}/auditLogs/directoryAudits?",
                links.base_url, links.version
            );
            if let Some(filter) = &query.filter_text {
                link.push_str("$filter=");
                link.extend(url::form_urlencoded::byte_serialize(filter.as_bytes()));
                link.push('&');
            }
            link.push_str(&format!(
                "$top={top}&$skiptoken={}",
                seal(next, filter_text, secrets)
            ));
            body.push_str(",\"@odata.nextLink\":");
            body.push_str(&json_string(&link));
        }
        body.push('}');
        Ok(Page {
            body,
            records: served.len(),
        })
    }
}

/// A record's `activityDateTime`: RFC 3339, or without an offset (then UTC).
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|time| time.and_utc())
        })
        .ok()
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// Position bytes: offset then page, little-endian.
const POSITION_LEN: usize = 16;
/// Bytes of the tag that authenticates a skiptoken.
const TAG_LEN: usize = 16;

/// Seals a position for `filter`: hex of the masked position, then hex of its tag.
fn seal(position: Position, filter: &str, secrets: &SecretSource) -> String {
    let mut bytes = [0u8; POSITION_LEN];
    bytes[..8].copy_from_slice(&position.offset.to_le_bytes());
    bytes[8..].copy_from_slice(&position.page.to_le_bytes());
    let tag = tag(&bytes, filter, secrets);
    let mask = mask(filter, secrets);
    for (byte, mask) in bytes.iter_mut().zip(mask) {
        *byte ^= mask;
    }
    let mut token = hex(&bytes);
    token.push_str(&hex(&tag));
    token
}

/// The position sealed in `token`, if this simulator sealed it for `filter`.
fn open(token: &str, filter: &str, secrets: &SecretSource) -> Result<Position, InvalidSkiptoken> {
    let bytes = unhex(token).ok_or(InvalidSkiptoken)?;
    if bytes.len() != POSITION_LEN + TAG_LEN {
        return Err(InvalidSkiptoken);
    }
    let mut position = [0u8; POSITION_LEN];
    for ((byte, masked), mask) in position.iter_mut().zip(&bytes).zip(mask(filter, secrets)) {
        *byte = masked ^ mask;
    }
    if tag(&position, filter, secrets)[..] != bytes[POSITION_LEN..] {
        return Err(InvalidSkiptoken);
    }
    let word = |range: std::ops::Range<usize>| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&position[range]);
        u64::from_le_bytes(word)
    };
    Ok(Position {
        offset: word(0..8),
        page: word(8..16),
    })
}

fn mask(filter: &str, secrets: &SecretSource) -> [u8; POSITION_LEN] {
    let digest = secrets.keyed_digest(&[b"skiptoken mask\0", filter.as_bytes()].concat());
    let mut mask = [0u8; POSITION_LEN];
    mask.copy_from_slice(&digest[..POSITION_LEN]);
    mask
}

fn tag(position: &[u8; POSITION_LEN], filter: &str, secrets: &SecretSource) -> [u8; TAG_LEN] {
    let digest = secrets
        .keyed_digest(&[b"skiptoken tag\0".as_slice(), position, filter.as_bytes()].concat());
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&digest[..TAG_LEN]);
    tag
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|start| u8::from_str_radix(&text[start..start + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptokens_round_trip_and_refuse_tampering() {
        let secrets = SecretSource::new();
        let position = Position {
            offset: 300,
            page: 4,
        };
        let token = seal(position, "f", &secrets);
        assert_eq!(open(&token, "f", &secrets), Ok(position));
        assert_ne!(
            token,
            seal(
                Position {
                    offset: 301,
                    page: 4
                },
                "f",
                &secrets
            )
        );
        assert_eq!(open(&token, "g", &secrets), Err(InvalidSkiptoken));
        assert_eq!(
            open(&token, "f", &SecretSource::new()),
            Err(InvalidSkiptoken)
        );
        let mut altered = token.clone().into_bytes();
        altered[0] = if altered[0] == b'0' { b'1' } else { b'0' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(open(&altered, "f", &secrets), Err(InvalidSkiptoken));
        for junk in ["", "300", "zz", &token[..token.len() - 2], "é"] {
            assert_eq!(open(junk, "f", &secrets), Err(InvalidSkiptoken), "{junk}");
        }
    }

    #[test]
    fn records_sort_newest_first_then_by_id_then_timeless_last() {
        let store = RecordStore::new(vec![
            serde_json::json!({"id": "a", "activityDateTime": "2026-10-01T00:00:00Z"}),
            serde_json::json!({"id": "none"}),
            serde_json::json!({"id": "b", "activityDateTime": "2026-10-01T00:00:00+00:00"}),
            serde_json::json!({"id": "c", "activityDateTime": "2026-10-02T00:00:00.5"}),
        ]);
        let ids: Vec<_> = store
            .records
            .iter()
            .map(|r| r.id.as_deref().unwrap())
            .collect();
        assert_eq!(ids, ["c", "b", "a", "none"]);
    }
}
