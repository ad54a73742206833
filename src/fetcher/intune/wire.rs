//! Reading Graph's JSON objects as real tenants send them: any field may be missing or null,
//! names may differ in case, numbers and booleans may come as strings.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// `object[name]`, or the first field whose name matches ignoring ASCII case.
pub(crate) fn field<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    let fields = object.as_object()?;
    fields.get(name).or_else(|| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

/// A string value.
pub(crate) fn text(value: Option<&Value>) -> Option<&str> {
    value?.as_str()
}

/// A string value, trimmed and owned; `None` when missing, null or blank.
pub(crate) fn owned_text(value: Option<&Value>) -> Option<String> {
    Some(text(value)?.trim().to_owned()).filter(|text| !text.is_empty())
}

/// `true`/`false`, or the strings `"true"`/`"false"` in any case.
pub(crate) fn flag(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A whole number, or a string holding one.
pub(crate) fn integer(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// An RFC 3339 time (any fraction, `Z` or an offset; none means UTC). Graph's "never" value
/// `0001-01-01T00:00:00Z` is `None`.
pub(crate) fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let text = text(value)?.trim();
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc())
        })
        .ok()?;
    (parsed.timestamp() > DateTime::<Utc>::UNIX_EPOCH.timestamp()).then_some(parsed)
}

/// The `@odata.type` without its `#microsoft.graph.` prefix, lower-case.
pub(crate) fn odata_type(object: &Value) -> String {
    let kind = text(field(object, "@odata.type"))
        .unwrap_or_default()
        .trim();
    kind.trim_start_matches('#')
        .trim_start_matches("microsoft.graph.")
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tolerant_reads() {
        let object = json!({"AccountEnabled": "TRUE", "value": "7", "n": 7.0, "t": "2026-11-30T10:00:00.1234567Z",
            "never": "0001-01-01T00:00:00Z", "local": "2026-11-30T10:00:00"});
        assert_eq!(flag(field(&object, "accountEnabled")), Some(true));
        assert_eq!(integer(field(&object, "value")), Some(7));
        assert_eq!(integer(field(&object, "n")), Some(7));
        assert_eq!(
            time(field(&object, "t")).unwrap().to_rfc3339(),
            "2026-11-30T10:00:00.123456700+00:00"
        );
        assert_eq!(time(field(&object, "never")), None);
        assert_eq!(
            time(field(&object, "local")).unwrap().to_rfc3339(),
            "2026-11-30T10:00:00+00:00"
        );
        assert_eq!(field(&object, "missing"), None);
        assert_eq!(
            odata_type(&json!({"@odata.type": "#microsoft.graph.windows10CustomConfiguration"})),
            "windows10customconfiguration"
        );
    }
}
