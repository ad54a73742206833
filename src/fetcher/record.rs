//! Decodes one JSON record into an [`AuditRecord`], whatever export it came from.
//!
//! Field names are matched as Graph spells them but ignoring ASCII case, so Log Analytics' PascalCase
//! columns (`CorrelationId`, `InitiatedBy`) decode too. Unknown fields are skipped without building
//! a tree. An Azure Monitor diagnostic record (`{"time", "operationName", "callerIpAddress", ...,
//! "properties": {<directoryAudit>}}`) is unwrapped: the inner record wins and the envelope fills
//! what it lacks. A field holding a value of the wrong type rejects the record, naming the field;
//! the dynamic columns of Log Analytics exports (`InitiatedBy` as a JSON string) are parsed.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};

use crate::model::{AppIdentity, AuditRecord, Detail, Initiator, TargetResource, UserIdentity};

/// Decodes one record from its JSON bytes, whatever source they came from (a file, a Graph
/// page, a Log Analytics row): the one way bytes become a record. An object with none of the
/// fields that make a directoryAudit is refused; a record without an id gets a content-derived
/// one, so the same bytes read twice still count once and id-less records never collapse.
pub fn decode(bytes: &[u8]) -> Result<AuditRecord, String> {
    let mut record = decode_json(bytes).map_err(|err| format!("invalid record: {err}"))?;
    if record.id.is_none()
        && record.activity_date_time.is_none()
        && record.activity_display_name.is_none()
        && record.correlation_id.is_none()
    {
        return Err(
            "not a directoryAudit record: it has none of id, activityDateTime, \
             activityDisplayName, correlationId"
                .to_owned(),
        );
    }
    if record.id.as_deref().is_none_or(|id| id.trim().is_empty()) {
        record.id = Some(content_id(bytes));
    }
    Ok(record)
}

/// Decodes the JSON of one record, fields as found.
pub(crate) fn decode_json(bytes: &[u8]) -> Result<AuditRecord, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// `sha256:<hex>` of a record's bytes: a stable identity for records that carry no id.
fn content_id(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut id = String::with_capacity(7 + 64);
    id.push_str("sha256:");
    for byte in digest {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

/// Reads the value of `field`, prefixing any error with the field's name.
fn field_value<'de, A, T>(map: &mut A, field: &str) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    map.next_value::<T>()
        .map_err(|err| de::Error::custom(format_args!("field `{field}`: {err}")))
}

/// Generates a `Deserialize` for a struct of optional fields matched by case-insensitive name.
macro_rules! case_insensitive_struct {
    ($type:ident, $expecting:literal, { $($json:literal => $field:ident : $value:ty),+ $(,)? }) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct FieldsVisitor;
                impl<'de> Visitor<'de> for FieldsVisitor {
                    type Value = $type;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$type, A::Error> {
                        let mut out = $type::default();
                        while let Some(key) = map.next_key::<Key>()? {
                            $(
                                if key.is($json) {
                                    out.$field = field_value::<A, $value>(&mut map, $json)?.into();
                                    continue;
                                }
                            )+
                            map.next_value::<IgnoredAny>()?;
                        }
                        Ok(out)
                    }
                }
                deserializer.deserialize_map(FieldsVisitor)
            }
        }
    };
}

case_insensitive_struct!(UserIdentity, "a user identity object", {
    "id" => id: Option<String>,
    "displayName" => display_name: Option<String>,
    "userPrincipalName" => user_principal_name: Option<String>,
    "ipAddress" => ip_address: Option<String>,
});

case_insensitive_struct!(AppIdentity, "an app identity object", {
    "appId" => app_id: Option<String>,
    "displayName" => display_name: Option<String>,
    "servicePrincipalId" => service_principal_id: Option<String>,
    "servicePrincipalName" => service_principal_name: Option<String>,
});

case_insensitive_struct!(Initiator, "an initiatedBy object", {
    "user" => user: Option<UserIdentity>,
    "app" => app: Option<AppIdentity>,
});

case_insensitive_struct!(TargetResource, "a target resource object", {
    "id" => id: Option<String>,
    "displayName" => display_name: Option<String>,
    "type" => kind: Option<String>,
    "userPrincipalName" => user_principal_name: Option<String>,
});

case_insensitive_struct!(Detail, "a {key, value} object", {
    "key" => key: Scalar,
    "value" => value: Scalar,
});

/// A key name, compared without allocating and ignoring ASCII case.
struct Key(KeyText);

enum KeyText {
    Short([u8; 32], usize),
    Long(String),
}

impl Key {
    fn is(&self, name: &str) -> bool {
        let text: &[u8] = match &self.0 {
            KeyText::Short(bytes, len) => &bytes[..*len],
            KeyText::Long(text) => text.as_bytes(),
        };
        text.eq_ignore_ascii_case(name.as_bytes())
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Key, E> {
                let mut bytes = [0u8; 32];
                Ok(Key(match bytes.get_mut(..text.len()) {
                    Some(prefix) => {
                        prefix.copy_from_slice(text.as_bytes());
                        KeyText::Short(bytes, text.len())
                    }
                    None => KeyText::Long(text.to_owned()),
                }))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A string, or a number or boolean taken as its text (`additionalDetails` values of some
/// exports), or null.
struct Scalar(Option<String>);

impl From<Scalar> for Option<String> {
    fn from(scalar: Scalar) -> Self {
        scalar.0
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(text.to_owned())))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Scalar, E> {
                Ok(Scalar(Some(text)))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(value.to_string())))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(value.to_string())))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(value.to_string())))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(value.to_string())))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A nested object or list that Log Analytics exports may carry as a JSON string instead;
/// null, blank text and the text `null` are absent.
struct Dynamic<T>(Option<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Dynamic<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DynamicVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for DynamicVisitor<T> {
            type Value = Dynamic<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object, a list, or a JSON text holding one")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Dynamic<T>, E> {
                Ok(Dynamic(None))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Dynamic<T>, E> {
                if text.trim().is_empty() {
                    return Ok(Dynamic(None));
                }
                serde_json::from_str::<Option<T>>(text)
                    .map(Dynamic)
                    .map_err(|err| E::custom(format_args!("embedded JSON text: {err}")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Dynamic<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|value| Dynamic(Some(value)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Dynamic<T>, A::Error> {
                T::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(|value| Dynamic(Some(value)))
            }
        }
        deserializer.deserialize_any(DynamicVisitor(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for AuditRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = AuditRecord;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a directoryAudit object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AuditRecord, A::Error> {
        let mut record = AuditRecord::default();
        // Fallbacks from a diagnostic envelope or a Log Analytics row.
        let mut envelope_time: Option<String> = None;
        let mut operation_name: Option<String> = None;
        let mut result_description: Option<String> = None;
        let mut properties: Option<AuditRecord> = None;
        while let Some(key) = map.next_key::<Key>()? {
            macro_rules! take {
                ($json:literal, $target:expr) => {{
                    $target = field_value::<A, Option<String>>(&mut map, $json)?;
                    continue;
                }};
            }
            macro_rules! take_dynamic {
                ($json:literal, $target:expr) => {{
                    $target = field_value::<A, Dynamic<_>>(&mut map, $json)?
                        .0
                        .unwrap_or_default();
                    continue;
                }};
            }
            if key.is("id") {
                take!("id", record.id)
            }
            if key.is("activityDateTime") {
                take!("activityDateTime", record.activity_date_time)
            }
            if key.is("loggedByService") {
                take!("loggedByService", record.logged_by_service)
            }
            if key.is("category") {
                take!("category", record.category)
            }
            if key.is("activityDisplayName") {
                take!("activityDisplayName", record.activity_display_name)
            }
            if key.is("operationType") {
                take!("operationType", record.operation_type)
            }
            if key.is("result") {
                take!("result", record.result)
            }
            if key.is("resultReason") {
                take!("resultReason", record.result_reason)
            }
            if key.is("correlationId") {
                take!("correlationId", record.correlation_id)
            }
            if key.is("userAgent") {
                take!("userAgent", record.user_agent)
            }
            if key.is("callerIpAddress") {
                take!("callerIpAddress", record.caller_ip_address)
            }
            if key.is("time") {
                take!("time", envelope_time)
            }
            if key.is("TimeGenerated") {
                take!("TimeGenerated", envelope_time)
            }
            if key.is("operationName") {
                take!("operationName", operation_name)
            }
            if key.is("resultDescription") {
                take!("resultDescription", result_description)
            }
            if key.is("initiatedBy") {
                record.initiated_by =
                    field_value::<A, Dynamic<Initiator>>(&mut map, "initiatedBy")?.0;
                continue;
            }
            if key.is("targetResources") {
                take_dynamic!("targetResources", record.target_resources)
            }
            if key.is("additionalDetails") {
                take_dynamic!("additionalDetails", record.additional_details)
            }
            if key.is("properties") {
                properties = field_value::<A, Option<AuditRecord>>(&mut map, "properties")?;
                continue;
            }
            map.next_value::<IgnoredAny>()?;
        }
        let mut record = match properties {
            Some(inner) => inner.wrapped_in(record),
            None => record,
        };
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
        Ok(record)
    }
}

impl AuditRecord {
    /// This record (the `properties` of a diagnostic record) completed from its envelope.
    fn wrapped_in(mut self, envelope: AuditRecord) -> AuditRecord {
        fn fill(field: &mut Option<String>, fallback: Option<String>) {
            if field.is_none() {
                *field = fallback;
            }
        }
        fill(&mut self.id, envelope.id);
        fill(&mut self.activity_date_time, envelope.activity_date_time);
        fill(&mut self.logged_by_service, envelope.logged_by_service);
        fill(
            &mut self.activity_display_name,
            envelope.activity_display_name,
        );
        fill(&mut self.result, envelope.result);
        fill(&mut self.result_reason, envelope.result_reason);
        fill(&mut self.correlation_id, envelope.correlation_id);
        fill(&mut self.user_agent, envelope.user_agent);
        fill(&mut self.caller_ip_address, envelope.caller_ip_address);
        if self.initiated_by.is_none() {
            self.initiated_by = envelope.initiated_by;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_graph_spelling() {
        let record = decode_json(
            br#"{"id":"a","activityDateTime":"2026-10-01T08:00:00.1234567Z","correlationId":"c",
                "activityDisplayName":"Reset password (self-service)","result":"success",
                "initiatedBy":{"user":{"userPrincipalName":"u@x","ipAddress":"1.2.3.4"},"app":null},
                "targetResources":[{"id":"t","type":"User","userPrincipalName":"u@x","modifiedProperties":[]}],
                "additionalDetails":[{"key":"ClientType","value":"Logon"}],"future":{"a":[1,{"b":2}]}}"#,
        )
        .unwrap();
        assert_eq!(record.id.as_deref(), Some("a"));
        assert_eq!(record.correlation_id.as_deref(), Some("c"));
        let user = record.initiated_by.unwrap().user.unwrap();
        assert_eq!(user.ip_address.as_deref(), Some("1.2.3.4"));
        assert_eq!(record.target_resources[0].kind.as_deref(), Some("User"));
        assert_eq!(record.additional_details[0].value.as_deref(), Some("Logon"));
    }

    #[test]
    fn matches_field_names_ignoring_case() {
        let record = decode_json(br#"{"Id":"a","CORRELATIONID":"c","ActivityDisplayName":"x","InitiatedBy":{"User":{"IpAddress":"::1"}}}"#).unwrap();
        assert_eq!(record.id.as_deref(), Some("a"));
        assert_eq!(record.correlation_id.as_deref(), Some("c"));
        assert_eq!(record.activity_display_name.as_deref(), Some("x"));
        assert_eq!(
            record
                .initiated_by
                .unwrap()
                .user
                .unwrap()
                .ip_address
                .as_deref(),
            Some("::1")
        );
    }

    #[test]
    fn every_field_may_be_null_or_missing() {
        assert_eq!(decode_json(b"{}").unwrap(), AuditRecord::default());
        let nulls = decode_json(
            br#"{"id":null,"activityDateTime":null,"initiatedBy":null,"targetResources":null,
                "additionalDetails":null,"userAgent":null,"result":null}"#,
        )
        .unwrap();
        assert_eq!(nulls, AuditRecord::default());
        let inner_nulls = decode_json(br#"{"initiatedBy":{"user":null,"app":null},"additionalDetails":[{"key":null,"value":null}]}"#).unwrap();
        assert_eq!(inner_nulls.initiated_by, Some(Initiator::default()));
        assert_eq!(inner_nulls.additional_details, vec![Detail::default()]);
    }

    #[test]
    fn unwraps_diagnostic_records() {
        let record = decode_json(
            br#"{"time":"2026-10-01T08:00:00Z","operationName":"Reset password (self-service)",
                "category":"AuditLogs","callerIpAddress":"203.0.113.9","correlationId":"c",
                "properties":{"id":"a","category":"UserManagement","result":"success"}}"#,
        )
        .unwrap();
        assert_eq!(record.id.as_deref(), Some("a"));
        assert_eq!(record.category.as_deref(), Some("UserManagement"));
        assert_eq!(
            record.activity_display_name.as_deref(),
            Some("Reset password (self-service)")
        );
        assert_eq!(
            record.activity_date_time.as_deref(),
            Some("2026-10-01T08:00:00Z")
        );
        assert_eq!(record.caller_ip_address.as_deref(), Some("203.0.113.9"));
        assert_eq!(record.correlation_id.as_deref(), Some("c"));
    }

    #[test]
    fn parses_log_analytics_dynamic_columns_given_as_text() {
        let record = decode_json(
            br#"{"Id":"a","TimeGenerated":"2026-10-01T08:00:00Z","OperationName":"Reset password (by admin)",
                "InitiatedBy":"{\"user\":{\"userPrincipalName\":\"admin@x\"}}",
                "AdditionalDetails":"[{\"key\":\"OnPremisesAgent\",\"value\":\"None\"}]","TargetResources":""}"#,
        )
        .unwrap();
        assert_eq!(
            record.activity_date_time.as_deref(),
            Some("2026-10-01T08:00:00Z")
        );
        assert_eq!(
            record.activity_display_name.as_deref(),
            Some("Reset password (by admin)")
        );
        let user = record.initiated_by.unwrap().user.unwrap();
        assert_eq!(user.user_principal_name.as_deref(), Some("admin@x"));
        assert_eq!(
            record.additional_details[0].key.as_deref(),
            Some("OnPremisesAgent")
        );
        assert!(record.target_resources.is_empty());
        let nulls = decode_json(
            br#"{"Id":"b","TargetResources":"null","AdditionalDetails":" null ","InitiatedBy":"null"}"#,
        )
        .unwrap();
        assert!(nulls.target_resources.is_empty() && nulls.additional_details.is_empty());
        assert!(nulls.initiated_by.is_none());
    }

    #[test]
    fn detail_values_may_be_numbers_or_booleans() {
        let record = decode_json(
            br#"{"additionalDetails":[{"key":"Attempts","value":3},{"key":"Ok","value":true}]}"#,
        )
        .unwrap();
        assert_eq!(record.additional_details[0].value.as_deref(), Some("3"));
        assert_eq!(record.additional_details[1].value.as_deref(), Some("true"));
    }

    #[test]
    fn wrong_types_reject_the_record_naming_the_field() {
        for (json, field) in [
            (r#"{"activityDateTime":5}"#, "activityDateTime"),
            (r#"{"id":{"a":1}}"#, "id"),
            (r#"{"initiatedBy":[1]}"#, "initiatedBy"),
            (r#"{"initiatedBy":{"user":{"ipAddress":7}}}"#, "ipAddress"),
            (r#"{"additionalDetails":{"key":"x"}}"#, "additionalDetails"),
            (r#"{"targetResources":[5]}"#, "targetResources"),
        ] {
            let err = decode_json(json.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(&format!("`{field}`")), "{json}: {err}");
        }
        assert!(decode_json(b"[1,2]").is_err());
        assert!(decode_json(b"\"text\"").is_err());
    }
}
