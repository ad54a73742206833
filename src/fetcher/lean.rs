//! The lean decoder: one directoryAudit in Graph's shape, read for the fields attempts need and
//! nothing else, with no intermediate tree and no copy of what it skips.
//!
//! It is a fast path, never an authority: whenever a record is anything but plain Graph JSON —
//! an escape in a key, an Azure Monitor envelope, a Log Analytics column holding JSON as text, a
//! field of the wrong type, no id, a syntax error anywhere — it declines (`None`) and the full
//! decoder ([`super::record`]) decides, with its error messages. When it accepts a record, the
//! fields it fills equal the full decoder's; `additionalDetails` keeps only the client type and
//! user agent entries, and `loggedByService`, `category`, `operationType` and display names are
//! checked but dropped. A test holds it to this on every sample record.

use std::borrow::Cow;

use crate::model::{
    AppIdentity, AuditRecord, Detail, DetailKey, Initiator, TargetResource, UserIdentity,
};

/// Nesting deeper than this is left to the full decoder (serde_json's own limit is 128).
const MAX_DEPTH: usize = 100;

/// Runs the arm whose name equals `key` ignoring ASCII case.
macro_rules! match_key {
    ($key:expr, $($name:literal => $arm:expr,)+ _ => $default:expr,) => {{
        let key: &[u8] = $key;
        $(if key.eq_ignore_ascii_case($name.as_bytes()) { $arm } else)+ { $default }
    }};
}

/// Decodes `line` if it is a plain Graph directoryAudit; `None` leaves it to the full decoder.
pub fn decode(line: &[u8]) -> Option<AuditRecord> {
    let text = std::str::from_utf8(line).ok()?;
    let mut cursor = Cursor {
        text,
        bytes: line,
        at: 0,
    };
    cursor.whitespace();
    let mut record = AuditRecord::default();
    let mut envelope_time = None;
    let mut operation_name = None;
    let mut result_description = None;
    cursor.object(|cursor, key| {
        let text = |cursor: &mut Cursor<'_>| {
            cursor
                .nullable_string()
                .map(|text| text.map(Cow::into_owned))
        };
        match_key!(key,
            "id" => record.id = text(cursor)?,
            "activityDateTime" => record.activity_date_time = text(cursor)?,
            "activityDisplayName" => record.activity_display_name = text(cursor)?,
            "result" => record.result = text(cursor)?,
            "resultReason" => record.result_reason = text(cursor)?,
            "correlationId" => record.correlation_id = text(cursor)?,
            "userAgent" => record.user_agent = text(cursor)?,
            "callerIpAddress" => record.caller_ip_address = text(cursor)?,
            "time" => envelope_time = text(cursor)?,
            "TimeGenerated" => envelope_time = text(cursor)?,
            "operationName" => operation_name = text(cursor)?,
            "resultDescription" => result_description = text(cursor)?,
            "loggedByService" => { cursor.nullable_string()?; },
            "category" => { cursor.nullable_string()?; },
            "operationType" => { cursor.nullable_string()?; },
            "initiatedBy" => record.initiated_by = cursor.initiator()?,
            "targetResources" => record.target_resources = cursor.targets()?,
            "additionalDetails" => record.additional_details = cursor.details()?,
            "properties" => return None,
            "value" => cursor.not_a_record_array()?,
            "records" => cursor.not_a_record_array()?,
            _ => cursor.skip(0)?,
        );
        Some(())
    })?;
    cursor.whitespace();
    if cursor.at != line.len() || record.id.as_deref().is_none_or(|id| id.trim().is_empty()) {
        return None;
    }
    record.activity_date_time = record.activity_date_time.or(envelope_time);
    record.activity_display_name = record.activity_display_name.or(operation_name);
    record.result_reason = record.result_reason.or(result_description);
    Some(record)
}

struct Cursor<'a> {
    /// The line, checked to be UTF-8 once; strings are slices of it at ASCII quotes.
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.whitespace();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn eat_literal(&mut self, literal: &[u8]) -> Option<()> {
        self.bytes[self.at..]
            .starts_with(literal)
            .then(|| self.at += literal.len())
    }

    /// An object: `each` reads the value of every key (raw key bytes, without escapes).
    fn object(&mut self, mut each: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.whitespace();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.whitespace();
            let key = self.raw_key()?;
            self.eat(b':')?;
            self.whitespace();
            each(self, key)?;
            self.whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array: `each` reads every element.
    fn array(&mut self, mut each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.whitespace();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.whitespace();
            each(self)?;
            self.whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Where the plain run of string content starting at `at` stops: at a quote, a backslash or
    /// a control character. Two vectorised passes: memchr for the quote and backslash, then a
    /// check for control characters before it.
    fn plain_run(&self, at: usize) -> Option<usize> {
        let end = at + memchr::memchr2(b'"', b'\\', self.bytes.get(at..)?)?;
        match self.bytes[at..end].iter().position(|&byte| byte < 0x20) {
            Some(control) => Some(at + control),
            None => Some(end),
        }
    }

    /// A key without escapes.
    fn raw_key(&mut self) -> Option<&'a [u8]> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        let end = self.plain_run(start)?;
        if self.bytes[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        Some(&self.bytes[start..end])
    }

    /// A string, unescaped; `None` if it is not a valid JSON string.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        let end = self.plain_run(start)?;
        match self.bytes[end] {
            b'"' => {
                self.at = end + 1;
                return Some(Cow::Borrowed(self.text.get(start..end)?));
            }
            b'\\' => {}
            _ => return None,
        }
        // Escapes: let serde_json read exactly this string.
        let end = self.string_end(start)?;
        self.at = end + 1;
        serde_json::from_slice::<String>(&self.bytes[start - 1..=end])
            .ok()
            .map(Cow::Owned)
    }

    /// The index of the quote closing the string whose content starts at `start`, checking its
    /// escapes and that it holds no control character.
    fn string_end(&self, mut at: usize) -> Option<usize> {
        loop {
            let found = at + memchr::memchr2(b'"', b'\\', &self.bytes[at..])?;
            if self.bytes[at..found].iter().any(|&b| b < 0x20) {
                return None;
            }
            if self.bytes[found] == b'"' {
                return Some(found);
            }
            at = match *self.bytes.get(found + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => found + 2,
                b'u' if self
                    .bytes
                    .get(found + 2..found + 6)?
                    .iter()
                    .all(u8::is_ascii_hexdigit) =>
                {
                    found + 6
                }
                _ => return None,
            };
        }
    }

    /// A string or null; `None` (decline) for anything else.
    fn nullable_string(&mut self) -> Option<Option<Cow<'a, str>>> {
        match self.peek()? {
            b'n' => self.eat_literal(b"null").map(|()| None),
            b'"' => self.string().map(Some),
            _ => None,
        }
    }

    /// Skips any JSON value, checking its syntax.
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => {
                self.at = self.string_end(self.at + 1)? + 1;
                Some(())
            }
            b'{' => self.object(|cursor, _| cursor.skip(depth + 1)),
            b'[' => self.array(|cursor| cursor.skip(depth + 1)),
            b't' => self.eat_literal(b"true"),
            b'f' => self.eat_literal(b"false"),
            b'n' => self.eat_literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// Skips the value of a top-level `value` or `records` key; an array there makes the object
    /// an envelope of records (a Graph page, an Azure Monitor batch), which the framer splits.
    fn not_a_record_array(&mut self) -> Option<()> {
        if self.peek()? == b'[' {
            return None;
        }
        self.skip(0)
    }

    /// A number, by JSON's grammar.
    fn number(&mut self) -> Option<()> {
        let digits = |cursor: &mut Self| {
            let start = cursor.at;
            while cursor.peek().is_some_and(|b| b.is_ascii_digit()) {
                cursor.at += 1;
            }
            (cursor.at > start).then_some(())
        };
        if self.peek()? == b'-' {
            self.at += 1;
        }
        if self.peek()? == b'0' {
            self.at += 1;
        } else {
            digits(self)?;
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            digits(self)?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            digits(self)?;
        }
        Some(())
    }

    /// `initiatedBy`: null or an object of `user` and `app`.
    fn initiator(&mut self) -> Option<Option<Initiator>> {
        if self.peek()? == b'n' {
            return self.eat_literal(b"null").map(|()| None);
        }
        let mut initiator = Initiator::default();
        self.object(|cursor, key| {
            match_key!(key,
                "user" => initiator.user = cursor.nullable_object(Cursor::user)?,
                "app" => initiator.app = cursor.nullable_object(Cursor::app)?,
                _ => cursor.skip(2)?,
            );
            Some(())
        })?;
        Some(Some(initiator))
    }

    fn nullable_object<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        match self.peek()? {
            b'n' => self.eat_literal(b"null").map(|()| None),
            b'{' => read(self).map(Some),
            _ => None,
        }
    }

    /// Reads an object of nullable string fields into `set(key, value)`; `false` from `set`
    /// means the key is not one of them and its value is skipped.
    fn string_fields(
        &mut self,
        mut set: impl FnMut(&[u8], Option<String>) -> bool,
        depth: usize,
    ) -> Option<()> {
        self.object(|cursor, key| {
            let start = cursor.at;
            match cursor.nullable_string() {
                Some(value) => {
                    set(key, value.map(Cow::into_owned));
                    Some(())
                }
                // Not a string: fine for an unknown key, a decline for a known one.
                None => {
                    cursor.at = start;
                    if set(key, None) {
                        None
                    } else {
                        cursor.skip(depth)
                    }
                }
            }
        })
    }

    fn user(&mut self) -> Option<UserIdentity> {
        let mut user = UserIdentity::default();
        self.string_fields(
            |key, value| {
                match_key!(key,
                    "id" => user.id = value,
                    "displayName" => user.display_name = value,
                    "userPrincipalName" => user.user_principal_name = value,
                    "ipAddress" => user.ip_address = value,
                    _ => return false,
                );
                true
            },
            3,
        )?;
        Some(user)
    }

    fn app(&mut self) -> Option<AppIdentity> {
        let mut app = AppIdentity::default();
        self.string_fields(
            |key, value| {
                match_key!(key,
                    "appId" => app.app_id = value,
                    "displayName" => app.display_name = value,
                    "servicePrincipalId" => app.service_principal_id = value,
                    "servicePrincipalName" => app.service_principal_name = value,
                    _ => return false,
                );
                true
            },
            3,
        )?;
        Some(app)
    }

    /// `targetResources`: null or an array of objects.
    fn targets(&mut self) -> Option<Vec<TargetResource>> {
        if self.peek()? == b'n' {
            return self.eat_literal(b"null").map(|()| Vec::new());
        }
        let mut targets = Vec::new();
        self.array(|cursor| {
            let mut target = TargetResource::default();
            cursor.string_fields(
                |key, value| {
                    match_key!(key,
                        "id" => target.id = value,
                        "displayName" => target.display_name = value,
                        "type" => target.kind = value,
                        "userPrincipalName" => target.user_principal_name = value,
                        _ => return false,
                    );
                    true
                },
                3,
            )?;
            targets.push(target);
            Some(())
        })?;
        Some(targets)
    }

    /// `additionalDetails`: null or an array of `{key, value}` scalars; only the entries the
    /// attempts use (client type, user agent) are kept.
    fn details(&mut self) -> Option<Vec<Detail>> {
        if self.peek()? == b'n' {
            return self.eat_literal(b"null").map(|()| Vec::new());
        }
        let mut kept = Vec::new();
        self.array(|cursor| {
            let (mut key, mut value) = (None, None);
            cursor.object(|cursor, field| {
                match_key!(field,
                    "key" => key = Some(cursor.scalar()?),
                    "value" => value = Some(cursor.scalar()?),
                    _ => cursor.skip(3)?,
                );
                Some(())
            })?;
            // Only text keys can name the client type or the user agent; their values must be
            // text too, or the full decoder's rendering of the scalar would be needed.
            if let Some(Some(Scalar::Text(key))) = key
                && DetailKey::of(&key) != DetailKey::Other
            {
                let value = match value.flatten() {
                    None => None,
                    Some(Scalar::Text(value)) => Some(value.into_owned()),
                    Some(Scalar::Other) => return None,
                };
                kept.push(Detail {
                    key: Some(key.into_owned()),
                    value,
                });
            }
            Some(())
        })?;
        Some(kept)
    }

    /// A detail's key or value: a string, a number, a boolean or null.
    fn scalar(&mut self) -> Option<Option<Scalar<'a>>> {
        match self.peek()? {
            b'"' => self.string().map(|text| Some(Scalar::Text(text))),
            b'n' => self.eat_literal(b"null").map(|()| None),
            b't' | b'f' => self.skip(4).map(|()| Some(Scalar::Other)),
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                self.number()?;
                // The full decoder reads this number and rejects one beyond f64's range.
                let magnitude = self.text.get(start..self.at)?.parse::<f64>().ok()?.abs();
                (magnitude < 1e300).then_some(Some(Scalar::Other))
            }
            _ => None,
        }
    }
}

/// A detail key or value: text, or another scalar (number, boolean).
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetcher::record;
    use crate::model::Event;
    use crate::transformer::event::normalize;

    /// The fields of an event that attempts read.
    fn attempt_fields(event: Event) -> impl PartialEq + std::fmt::Debug {
        (
            (
                event.id,
                event.time,
                event.kind,
                event.result,
                event.result_reason,
                event.correlation_id,
            ),
            (
                event.initiator_upn,
                event.initiator_id,
                event.target_upn,
                event.target_id,
            ),
            (event.ip_address, event.client_type, event.user_agent),
        )
    }

    fn sample_lines() -> Vec<Vec<u8>> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for path in ["data/sample/audit.ndjson", "tests/fixtures/golden.ndjson"] {
            let text =
                std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
            lines.extend(
                text.split(|&b| b == b'\n')
                    .filter(|line| !line.is_empty())
                    .map(<[u8]>::to_vec),
            );
        }
        lines
    }

    #[test]
    fn agrees_with_the_full_decoder_on_every_sample_record() {
        let lines = sample_lines();
        let mut accepted = 0;
        for line in &lines {
            let Some(lean) = decode(line) else { continue };
            accepted += 1;
            let full =
                record::decode(line).expect("the full decoder accepts what the lean one does");
            let text = String::from_utf8_lossy(line);
            assert_eq!(
                attempt_fields(normalize(lean).unwrap()),
                attempt_fields(normalize(full).unwrap()),
                "{text}"
            );
        }
        assert!(
            accepted * 100 >= lines.len() * 95,
            "only {accepted} of {} lines took the fast path",
            lines.len()
        );
    }

    #[test]
    fn declines_whatever_is_not_plain_graph_json() {
        let base =
            r#""id":"a","correlationId":"c","activityDisplayName":"Reset password (self-service)""#;
        let declined = [
            format!("{{{base},\"result\":5}}"),
            format!("{{{base},\"category\":[1]}}"),
            format!("{{{base},\"initiatedBy\":\"{{\\\"user\\\":null}}\"}}"),
            format!("{{{base},\"initiatedBy\":{{\"user\":{{\"ipAddress\":7}}}}}}"),
            format!("{{{base},\"targetResources\":[null]}}"),
            format!("{{{base},\"additionalDetails\":[{{\"key\":\"ClientType\",\"value\":3}}]}}"),
            format!("{{{base},\"additionalDetails\":[{{\"key\":\"x\",\"value\":[1]}}]}}"),
            format!("{{{base},\"properties\":{{}}}}"),
            format!("{{{base},\"x\":\"bad \\q escape\"}}"),
            format!("{{{base},\"x\":tru}}"),
            format!("{{{base},\"x\":01}}"),
            format!("{{{base},\"x\":1.}}"),
            format!("{{{base},\"x\":{}}}", "[".repeat(200) + &"]".repeat(200)),
            format!("{{{base}}} trailing"),
            format!("{{{base},}}"),
            format!("{{\"ke\\u0079\":1,{base}}}"),
            r#"{"correlationId":"c"}"#.to_owned(),
            r#"{"id":" ","correlationId":"c"}"#.to_owned(),
            format!("{{{base},\"x\":\"tab\tinside\"}}"),
        ];
        for line in &declined {
            assert!(decode(line.as_bytes()).is_none(), "{line}");
        }
        assert!(decode(b"{\"id\":\"a\",\"x\":\"\xff\"}").is_none());
    }

    #[test]
    fn reads_escapes_nulls_and_odd_but_valid_json() {
        let line = br#" { "ID" : "a\u00e9" , "activityDateTime":"2026-10-01T08:00:00Z", "future": {"n": [1, -2.5e3, true, null, "\"x\""]},
            "initiatedBy": {"user": {"userPrincipalName": "U@X", "ipAddress": null, "extra": {"a": 1}}, "app": null},
            "targetResources": [{"type": "User", "userPrincipalName": "t@x", "modifiedProperties": []}],
            "additionalDetails": [{"key": "Method", "value": 1}, {"key": "Client Type", "value": "Logon\n"}], "result": null } "#;
        let record = decode(line).expect("plain JSON");
        assert_eq!(record.id.as_deref(), Some("a\u{e9}"));
        assert_eq!(
            record.additional_details,
            vec![Detail {
                key: Some("Client Type".into()),
                value: Some("Logon\n".into())
            }]
        );
        assert_eq!(
            record.target_resources[0].user_principal_name.as_deref(),
            Some("t@x")
        );
        assert_eq!(
            record
                .initiated_by
                .unwrap()
                .user
                .unwrap()
                .user_principal_name
                .as_deref(),
            Some("U@X")
        );
    }
}
#[cfg(test)]
mod scratch {
    #[test]
    fn scratch_ratio() {
        let Ok(path) = std::env::var("LEAN_FILE") else {
            return;
        };
        let text = std::fs::read(path).unwrap();
        let (mut yes, mut no) = (0, 0);
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if super::decode(line).is_some() {
                yes += 1
            } else {
                no += 1;
                if no < 3 {
                    eprintln!("{}", String::from_utf8_lossy(line));
                }
            }
        }
        eprintln!("yes {yes} no {no}");
    }
}
