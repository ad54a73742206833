//! The lean decoder: one directoryAudit in Graph's shape, read for the fields attempts need and
//! nothing else, with no intermediate tree and no copy at all: the [`RecordView`] it gives
//! borrows from the line, except for strings holding an escape.
//!
//! It is a fast path, never an authority: whenever a record is anything but plain Graph JSON —
//! an escape in a key, an Azure Monitor envelope, a Log Analytics column holding JSON as text, a
//! field of the wrong type, no id, a syntax error anywhere — it declines (`None`) and the full
//! decoder ([`super::record`]) decides, with its error messages. When it accepts a record, its
//! view equals the full decoder's [`AuditRecord::view`](crate::model::AuditRecord::view);
//! `loggedByService`, `category`, `operationType`, display names and `initiatedBy.app` are
//! checked but dropped. A test holds it to this on every sample record.

use std::borrow::Cow;

use super::scan::plain_len;
use crate::model::{DetailKey, RecordView};

/// Nesting deeper than this is left to the full decoder (serde_json's own limit is 128).
const MAX_DEPTH: usize = 100;

/// Runs the arm whose name equals `key` ignoring ASCII case: an exact match first (Graph's own
/// spelling, one jump), then each name ignoring case.
macro_rules! match_key {
    ($key:expr, $($name:literal => $arm:expr,)+ _ => $default:expr,) => {{
        let key: &str = $key;
        match key {
            $($name => $arm,)+
            _ => $(if key.eq_ignore_ascii_case($name) { $arm } else)+ { $default },
        }
    }};
}

/// Decodes `line` if it is a plain Graph directoryAudit; `None` leaves it to the full decoder.
pub fn decode(line: &[u8]) -> Option<RecordView<'_>> {
    // simdutf8 (already built for polars): the whole line checked with vector instructions.
    let text = simdutf8::basic::from_utf8(line).ok()?;
    let mut cursor = Cursor {
        text,
        bytes: line,
        at: 0,
    };
    cursor.whitespace();
    let mut record = RecordView::default();
    let mut envelope_time = None;
    let mut operation_name = None;
    let mut result_description = None;
    // A structured field given twice is left to the full decoder, whose last one wins; the lean
    // decoder would merge the two.
    let mut structured_seen = [false; 3];
    let mut first_time =
        |field: usize| (!std::mem::replace(&mut structured_seen[field], true)).then_some(());
    cursor.object(|cursor, key| {
        let text = Cursor::nullable_string;
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
            "initiatedBy" => { first_time(0)?; cursor.initiator(&mut record)? },
            "targetResources" => { first_time(1)?; cursor.targets(&mut record)? },
            "additionalDetails" => { first_time(2)?; cursor.details(&mut record)? },
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
    // Log Analytics rows give an empty `ResultReason` where the step text is in `ResultDescription`.
    if record
        .result_reason
        .as_deref()
        .is_none_or(|reason| reason.trim().is_empty())
        && result_description.is_some()
    {
        record.result_reason = result_description;
    }
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

    /// An object: `each` reads the value of every key (raw key text, without escapes).
    fn object(&mut self, mut each: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
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
    /// a control character.
    fn plain_run(&self, at: usize) -> Option<usize> {
        Some(at + plain_len(self.bytes.get(at..)?)?)
    }

    /// A key without escapes.
    fn raw_key(&mut self) -> Option<&'a str> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        let end = self.plain_run(start)?;
        if self.bytes[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        self.text.get(start..end)
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
            let found = self.plain_run(at)?;
            match self.bytes[found] {
                b'"' => return Some(found),
                b'\\' => {}
                _ => return None,
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
    fn initiator(&mut self, record: &mut RecordView<'a>) -> Option<()> {
        if self.peek()? == b'n' {
            return self.eat_literal(b"null");
        }
        self.object(|cursor, key| {
            match_key!(key,
                "user" => cursor.nullable_object(|cursor| cursor.user(record))?,
                "app" => cursor.nullable_object(|cursor| cursor.app(record))?,
                _ => cursor.skip(2)?,
            );
            Some(())
        })
    }

    fn nullable_object(&mut self, read: impl FnOnce(&mut Self) -> Option<()>) -> Option<()> {
        match self.peek()? {
            b'n' => self.eat_literal(b"null"),
            b'{' => read(self),
            _ => None,
        }
    }

    /// Reads an object of nullable string fields into `set(key, value)`; `false` from `set`
    /// means the key is not one of them and its value is skipped.
    fn string_fields(
        &mut self,
        mut set: impl FnMut(&str, Option<Cow<'a, str>>) -> bool,
        depth: usize,
    ) -> Option<()> {
        self.object(|cursor, key| {
            let start = cursor.at;
            match cursor.nullable_string() {
                Some(value) => {
                    set(key, value);
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

    fn user(&mut self, record: &mut RecordView<'a>) -> Option<()> {
        self.string_fields(
            |key, value| {
                match_key!(key,
                    "id" => record.initiator_id = value,
                    "displayName" => {},
                    "userPrincipalName" => record.initiator_upn = value,
                    "ipAddress" => record.initiator_ip = value,
                    _ => return false,
                );
                true
            },
            3,
        )
    }

    /// `initiatedBy.app`: its display name kept, the other fields checked.
    fn app(&mut self, record: &mut RecordView<'a>) -> Option<()> {
        self.string_fields(
            |key, value| {
                match_key!(key,
                    "displayName" => record.initiator_app = value,
                    "appId" => {},
                    "servicePrincipalId" => {},
                    "servicePrincipalName" => {},
                    _ => return false,
                );
                true
            },
            3,
        )
    }

    /// `targetResources`: null or an array of objects.
    fn targets(&mut self, record: &mut RecordView<'a>) -> Option<()> {
        if self.peek()? == b'n' {
            return self.eat_literal(b"null");
        }
        self.array(|cursor| {
            let (mut id, mut upn, mut kind) = (None, None, None);
            cursor.string_fields(
                |key, value| {
                    match_key!(key,
                        "id" => id = value,
                        "displayName" => {},
                        "type" => kind = value,
                        "userPrincipalName" => upn = value,
                        _ => return false,
                    );
                    true
                },
                3,
            )?;
            record.offer_target(id, upn, kind.as_deref());
            Some(())
        })
    }

    /// `additionalDetails`: null or an array of `{key, value}` scalars; only the entries the
    /// attempts use (client type, user agent) are looked at further.
    fn details(&mut self, record: &mut RecordView<'a>) -> Option<()> {
        if self.peek()? == b'n' {
            return self.eat_literal(b"null");
        }
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
                    Some(Scalar::Text(value)) => Some(value),
                    Some(Scalar::Other) => return None,
                };
                record.offer_detail(&key, value);
            }
            Some(())
        })
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
            assert_eq!(lean, full.view(), "{text}");
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
        // Not UTF-8: a stray byte, an overlong slash, a surrogate, a truncated sequence.
        for bad in [&b"\xff"[..], b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82"] {
            let line = [&b"{\"id\":\"a\",\"x\":\""[..], bad, b"\"}"].concat();
            assert!(decode(&line).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn reads_escapes_nulls_and_odd_but_valid_json() {
        let line = br#" { "ID" : "a\u00e9" , "activityDateTime":"2026-10-01T08:00:00Z", "future": {"n": [1, -2.5e3, true, null, "\"x\""]},
            "initiatedBy": {"user": {"userPrincipalName": "U@X", "ipAddress": null, "extra": {"a": 1}}, "app": null},
            "targetResources": [{"type": "User", "userPrincipalName": "t@x", "modifiedProperties": []}],
            "additionalDetails": [{"key": "Method", "value": 1}, {"key": "Client Type", "value": "Logon\n"}], "result": null } "#;
        let record = decode(line).expect("plain JSON");
        assert_eq!(record, record::decode(line).unwrap().view());
        assert_eq!(record.id.as_deref(), Some("a\u{e9}"));
        assert_eq!(record.detail_client_type.as_deref(), Some("Logon\n"));
        assert_eq!(record.target_upn.as_deref(), Some("t@x"));
        assert_eq!(record.initiator_upn.as_deref(), Some("U@X"));
        assert_eq!(record.initiator_ip, None);
    }

    #[test]
    fn borrows_plain_strings_and_owns_only_unescaped_ones() {
        let line = r#"{"id":"Zoë 🙂","correlationId":"c\/1","userAgent":"Mozilla \"5\" \u00e9\ud83d\ude42"}"#;
        let record = decode(line.as_bytes()).expect("plain JSON");
        assert!(matches!(record.id, Some(Cow::Borrowed("Zoë 🙂"))));
        assert!(matches!(record.correlation_id.as_ref(), Some(Cow::Owned(id)) if id == "c/1"));
        assert_eq!(record.user_agent.as_deref(), Some("Mozilla \"5\" é🙂"));
        assert_eq!(record, record::decode(line.as_bytes()).unwrap().view());
    }

    #[test]
    fn picks_the_target_and_details_as_the_full_decoder_does() {
        let lines = [
            // The user target comes second; the first client type is blank; details before id.
            r#"{"additionalDetails":[{"key":"ClientType","value":" "},{"value":"Web","key":"client type"},{"key":"ClientType","value":"Logon"},{"key":"User-Agent","value":"curl/8"}],"targetResources":[{"id":"g","type":"Group"},{"type":"user","id":"u"},{"id":"v","userPrincipalName":"v@x"}],"id":"a"}"#,
            // A UPN names a user even without a type; a null value and a null key are skipped.
            r#"{"id":"b","targetResources":[{"id":"g"},{"id":"u","userPrincipalName":"u@x"}],"additionalDetails":[{"key":"ClientType","value":null},{"key":null,"value":"x"},{"key":"useragent","value":"ua"}]}"#,
            r#"{"id":"c","targetResources":null,"additionalDetails":null,"initiatedBy":null}"#,
        ];
        for line in lines {
            let lean = decode(line.as_bytes()).expect("plain JSON");
            assert_eq!(
                lean,
                record::decode(line.as_bytes()).unwrap().view(),
                "{line}"
            );
        }
        let first = decode(lines[0].as_bytes()).unwrap();
        assert_eq!(
            (
                first.target_id.as_deref(),
                first.detail_client_type.as_deref()
            ),
            (Some("u"), Some("Web"))
        );
        assert_eq!(first.detail_user_agent.as_deref(), Some("curl/8"));
        let second = decode(lines[1].as_bytes()).unwrap();
        assert_eq!(
            (second.target_id.as_deref(), second.detail_client_type),
            (Some("u"), None)
        );
    }
}
