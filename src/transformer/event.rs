//! One record → one normalised event: UTC time, IP address, client type, user agent.
//!
//! [`normalize_view`] reads the fields attempts need without copying them (the reading threads
//! of a report fold it straight into attempts); [`normalize`] builds the whole [`Event`] of the
//! `events` table on top of it.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::network::parse_address;
use crate::model::{
    ActivityKind, AuditRecord, DetailKey, Event, EventExtras, EventView, RecordView,
};

/// Normalises one record. Fails only when the record has a time that is not a time; a record
/// without any time is kept with `time = None`.
pub fn normalize(record: AuditRecord) -> Result<Event, String> {
    let mut view = normalize_view(record.view())?;
    view.ip_address = view.ip_address.map(|ip| Cow::Owned(normalize_ip(&ip)));
    let owned =
        |text: &Option<String>| non_empty(text.as_deref().map(Cow::Borrowed)).map(Cow::into_owned);
    let extras = EventExtras {
        service: owned(&record.logged_by_service),
        category: owned(&record.category),
        details: record
            .additional_details
            .iter()
            .map(|detail| {
                let key = detail.key.clone().unwrap_or_default();
                let value = detail.value.clone().unwrap_or_default();
                (key, value)
            })
            .filter(|(key, _)| DetailKey::of(key) != DetailKey::ClientType)
            .collect(),
    };
    Ok(view.into_event(extras))
}

/// Normalises the fields attempts read, borrowing them from the record. Fails as [`normalize`].
pub fn normalize_view(record: RecordView<'_>) -> Result<EventView<'_>, String> {
    let time = match non_empty(record.activity_date_time) {
        None => None,
        Some(text) => Some(
            parse_time(&text)
                .ok_or_else(|| format!("activityDateTime `{text}` is not a date and time"))?,
        ),
    };
    let activity = non_empty(record.activity_display_name);
    Ok(EventView {
        id: record.id.unwrap_or_default(),
        time,
        kind: ActivityKind::of(activity.as_deref()),
        activity,
        result: non_empty(record.result),
        result_reason: non_empty(record.result_reason),
        correlation_id: non_empty(record.correlation_id),
        initiator_upn: non_empty(record.initiator_upn),
        initiator_id: non_empty(record.initiator_id),
        initiator_app: non_empty(record.initiator_app),
        target_upn: non_empty(record.target_upn),
        target_id: non_empty(record.target_id),
        ip_address: non_empty(record.initiator_ip).or_else(|| non_empty(record.caller_ip_address)),
        client_type: non_empty(record.detail_client_type),
        user_agent: non_empty(record.user_agent).or_else(|| non_empty(record.detail_user_agent)),
    })
}

/// Trimmed text, or `None` when absent or blank.
fn non_empty(text: Option<Cow<'_, str>>) -> Option<Cow<'_, str>> {
    match text? {
        Cow::Borrowed(text) => Some(trim(text))
            .filter(|text| !text.is_empty())
            .map(Cow::Borrowed),
        Cow::Owned(text) => match trim(&text) {
            "" => None,
            trimmed if trimmed.len() == text.len() => Some(Cow::Owned(text)),
            trimmed => Some(Cow::Owned(trimmed.to_owned())),
        },
    }
}

/// [`str::trim`], answered from the first and last bytes when they are visible ASCII (the
/// common case; white space is ASCII space or control or else not ASCII).
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// Parses an audit timestamp: RFC 3339 with any number of fractional digits and `Z` or an
/// offset; a timestamp without offset (some CSV and Log Analytics exports) is taken as UTC.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// The canonical text of an IP address (IPv4-mapped IPv6 as IPv4, ports and brackets dropped);
/// text that is no address is kept trimmed, as found.
pub fn normalize_ip(text: &str) -> String {
    parse_address(text).map_or_else(|| text.trim().to_owned(), |address| address.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Detail, Initiator, TargetResource, UserIdentity};

    fn detail(key: &str, value: &str) -> Detail {
        Detail {
            key: Some(key.into()),
            value: Some(value.into()),
        }
    }

    #[test]
    fn timestamps_with_up_to_seven_fractional_digits() {
        let cases = [
            ("2026-10-01T08:00:00Z", "2026-10-01T08:00:00+00:00"),
            (
                "2026-10-01T08:00:00.1234567Z",
                "2026-10-01T08:00:00.123456700+00:00",
            ),
            (
                "2026-10-01T08:00:00.1234567+00:00",
                "2026-10-01T08:00:00.123456700+00:00",
            ),
            (
                "2026-10-01T10:00:00.5+02:00",
                "2026-10-01T08:00:00.500+00:00",
            ),
            ("2026-10-01T08:00:00.12z", "2026-10-01T08:00:00.120+00:00"),
            ("2026-10-01 08:00:00.123", "2026-10-01T08:00:00.123+00:00"),
            (" 2026-10-01T08:00:00 ", "2026-10-01T08:00:00+00:00"),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_time(text).map(|t| t.to_rfc3339()),
                Some(want.to_owned()),
                "{text}"
            );
        }
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "1696147200"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn ip_addresses_are_canonical() {
        let cases = [
            ("203.0.113.7", "203.0.113.7"),
            (" 203.0.113.7 ", "203.0.113.7"),
            ("2001:DB8:0:0::1", "2001:db8::1"),
            ("::ffff:1.2.3.4", "1.2.3.4"),
            ("203.0.113.7:443", "203.0.113.7"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("not an ip", "not an ip"),
        ];
        for (text, want) in cases {
            assert_eq!(normalize_ip(text), want, "{text}");
        }
    }

    #[test]
    fn client_type_key_ignores_case_and_spaces() {
        for key in [
            "ClientType",
            "clientType",
            "Client Type",
            "CLIENTTYPE",
            " client\ttype ",
        ] {
            let record = AuditRecord {
                id: Some("a".into()),
                additional_details: vec![detail("MethodsUsed", "SMS"), detail(key, " Logon ")],
                ..AuditRecord::default()
            };
            let event = normalize(record).unwrap();
            assert_eq!(event.client_type.as_deref(), Some("Logon"), "{key}");
            assert_eq!(
                event.details,
                vec![("MethodsUsed".to_owned(), "SMS".to_owned())]
            );
        }
    }

    #[test]
    fn empty_client_type_gives_way_to_a_later_entry() {
        let record = AuditRecord {
            additional_details: vec![detail("ClientType", ""), detail("Client Type", "Web")],
            ..AuditRecord::default()
        };
        assert_eq!(
            normalize(record).unwrap().client_type.as_deref(),
            Some("Web")
        );
    }

    #[test]
    fn ip_falls_back_to_the_caller_address_and_empty_is_null() {
        let user = |ip: Option<&str>| Initiator {
            user: Some(UserIdentity {
                ip_address: ip.map(Into::into),
                ..UserIdentity::default()
            }),
            app: None,
        };
        let with = |ip, caller: Option<&str>| AuditRecord {
            initiated_by: Some(user(ip)),
            caller_ip_address: caller.map(Into::into),
            ..AuditRecord::default()
        };
        assert_eq!(
            normalize(with(Some("1.2.3.4"), Some("5.6.7.8")))
                .unwrap()
                .ip_address
                .as_deref(),
            Some("1.2.3.4")
        );
        assert_eq!(
            normalize(with(Some(""), Some("5.6.7.8")))
                .unwrap()
                .ip_address
                .as_deref(),
            Some("5.6.7.8")
        );
        assert_eq!(
            normalize(with(None, Some("5.6.7.8")))
                .unwrap()
                .ip_address
                .as_deref(),
            Some("5.6.7.8")
        );
        assert_eq!(
            normalize(with(Some(" "), Some(""))).unwrap().ip_address,
            None
        );
    }

    #[test]
    fn user_agent_from_field_else_detail() {
        let record = AuditRecord {
            additional_details: vec![detail("User-Agent", "Mozilla/5.0")],
            ..AuditRecord::default()
        };
        assert_eq!(
            normalize(record.clone()).unwrap().user_agent.as_deref(),
            Some("Mozilla/5.0")
        );
        let record = AuditRecord {
            user_agent: Some("curl/8".into()),
            ..record
        };
        assert_eq!(
            normalize(record).unwrap().user_agent.as_deref(),
            Some("curl/8")
        );
    }

    #[test]
    fn target_prefers_the_user_resource() {
        let record = AuditRecord {
            target_resources: vec![
                TargetResource {
                    id: Some("group".into()),
                    kind: Some("Group".into()),
                    ..TargetResource::default()
                },
                TargetResource {
                    id: Some("u1".into()),
                    kind: Some("User".into()),
                    ..TargetResource::default()
                },
            ],
            ..AuditRecord::default()
        };
        assert_eq!(normalize(record).unwrap().target_id.as_deref(), Some("u1"));
    }

    #[test]
    fn a_bad_time_is_an_error_and_a_missing_one_is_not() {
        let bad = AuditRecord {
            activity_date_time: Some("soon".into()),
            ..AuditRecord::default()
        };
        assert!(normalize(bad).unwrap_err().contains("soon"));
        assert_eq!(normalize(AuditRecord::default()).unwrap().time, None);
    }
}
