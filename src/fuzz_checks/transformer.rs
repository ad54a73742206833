//! Checks on the transformer's parsing of untrusted text: records into events, timestamps, IP
//! addresses, and channel rules files.

use chrono::{Datelike, SecondsFormat};

use crate::fetcher::record;
use crate::model::{ADMIN_CHANNEL, UNKNOWN_CHANNEL};
use crate::transformer::event::{normalize, normalize_ip, parse_time};
use crate::transformer::rules::ChannelRules;

/// Normalises the record `data` decodes to (if any), and reads `data` as a timestamp and as an
/// IP address. An event's texts are trimmed and never blank; a time parsed prints as RFC 3339
/// and parses back to itself; the canonical form of an address is its own canonical form.
pub fn normalize_record(data: &[u8]) {
    if let Ok(event) = record::decode(data).map(normalize) {
        let event = match event {
            Ok(event) => event,
            Err(_) => return,
        };
        let texts = [
            &event.service,
            &event.category,
            &event.activity,
            &event.result,
            &event.result_reason,
            &event.correlation_id,
            &event.initiator_upn,
            &event.initiator_id,
            &event.initiator_app,
            &event.target_upn,
            &event.target_id,
            &event.ip_address,
            &event.client_type,
            &event.user_agent,
        ];
        for text in texts.into_iter().flatten() {
            assert!(
                !text.is_empty() && text.trim() == text,
                "untrimmed or blank text `{text}` in {event:?}"
            );
        }
        if let Some(time) = event.time {
            round_trips(time);
        }
    }
    let text = String::from_utf8_lossy(data);
    if let Some(time) = parse_time(&text) {
        round_trips(time);
    }
    let canonical = normalize_ip(&text);
    assert_eq!(normalize_ip(&canonical), canonical, "from `{text}`");
}

/// A time prints as RFC 3339 and parses back to itself (RFC 3339 has four-digit years only).
fn round_trips(time: chrono::DateTime<chrono::Utc>) {
    if (0..=9999).contains(&time.year()) {
        let printed = time.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        assert_eq!(parse_time(&printed), Some(time), "`{printed}`");
    }
}

/// Parses `data` as a channel rules file; rules that load classify any text without panicking,
/// never into the helpdesk's reserved channel, and nothing at all into `unknown`.
pub fn channel_rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = ChannelRules::from_toml(text) else {
        return;
    };
    assert_eq!(rules.classify(None, None), UNKNOWN_CHANNEL);
    for probe in text.lines().take(16) {
        for channel in [
            rules.classify(Some(probe), None),
            rules.classify(None, Some(probe)),
        ] {
            assert!(
                !channel.is_empty() && !channel.eq_ignore_ascii_case(ADMIN_CHANNEL),
                "`{probe}` classified as `{channel}`"
            );
        }
    }
}
