//! A Logs query's answer: `{"tables": [{"name", "columns": [{"name", "type"}], "rows": [[...]]}],
//! "error"?: {"code", "message", "details"}}`.
//!
//! Rows are positional: each becomes one JSON object keyed by the names of the `columns` list,
//! its cells copied verbatim (a `dynamic` cell stays the JSON text the service sent; the record
//! decoder parses it). An answer is partial when it carries a top-level `error` beside its tables
//! (`PartialError`: over the row or size limit, or another problem the service did not find fatal)
//! or when it holds as many rows as a result may: such an answer is never stored as complete.

use serde::Deserialize;
use serde_json::value::RawValue;

/// The most rows one result holds; an answer with this many is taken as cut off.
pub const RESULT_ROW_LIMIT: usize = 500_000;

/// A row that could not become a record: its position in the answer, why, and its cells.
#[derive(Debug, PartialEq)]
pub struct RowReject {
    pub index: usize,
    pub reason: String,
    pub raw: Vec<u8>,
}

/// What a query's answer holds.
#[derive(Debug, Default, PartialEq)]
pub struct Answer {
    /// One JSON object per row, keyed by column name.
    pub rows: Vec<Vec<u8>>,
    pub rejects: Vec<RowReject>,
    /// Why the answer is not the whole result, when it is not: `code: message`.
    pub partial: Option<String>,
}

#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow, default)]
    tables: Option<Vec<Table<'a>>>,
    #[serde(default)]
    error: Option<ErrorObject>,
}

#[derive(Deserialize)]
struct Table<'a> {
    #[serde(default)]
    name: Option<String>,
    columns: Vec<Column>,
    #[serde(borrow)]
    rows: Vec<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct Column {
    name: String,
}

#[derive(Deserialize)]
struct ErrorObject {
    code: Option<String>,
    message: Option<String>,
}

/// Reads an HTTP 200 body; `Err` when it is not a query answer at all (an empty body, a
/// gateway's page), which is worth asking again.
pub fn read(body: &[u8]) -> Result<Answer, String> {
    let body: Body<'_> = serde_json::from_slice(body).map_err(|err| err.to_string())?;
    let partial = body.error.map(|error| {
        format!(
            "{}: {}",
            error.code.as_deref().unwrap_or("an error without a code"),
            error.message.as_deref().unwrap_or("no message")
        )
    });
    let Some(mut tables) = body.tables else {
        return match partial {
            Some(why) => Ok(Answer {
                partial: Some(why),
                ..Answer::default()
            }),
            None => Err("no `tables` in it".to_owned()),
        };
    };
    let primary = tables
        .iter()
        .position(|table| table.name.as_deref() == Some("PrimaryResult"))
        .unwrap_or(0);
    if tables.is_empty() {
        return Ok(Answer {
            partial,
            ..Answer::default()
        });
    }
    let table = tables.swap_remove(primary);
    let keys: Vec<String> = table
        .columns
        .iter()
        .map(|column| serde_json::to_string(&column.name).unwrap_or_default())
        .collect();
    let mut answer = Answer {
        partial: partial.or_else(|| {
            (table.rows.len() >= RESULT_ROW_LIMIT).then(|| {
                format!(
                    "{} rows: the most a result holds, so probably cut off",
                    table.rows.len()
                )
            })
        }),
        ..Answer::default()
    };
    for (index, cells) in table.rows.iter().enumerate() {
        let object = object_of(&keys, cells);
        if cells.len() == keys.len() {
            answer.rows.push(object);
        } else {
            answer.rejects.push(RowReject {
                index,
                reason: format!(
                    "the row has {} cells but the answer names {} columns",
                    cells.len(),
                    keys.len()
                ),
                raw: object,
            });
        }
    }
    Ok(answer)
}

/// `{"Column": cell, ...}`; with a count mismatch, the cells there are, keyed as far as names go.
fn object_of(keys: &[String], cells: &[&RawValue]) -> Vec<u8> {
    let mut object = Vec::with_capacity(cells.iter().map(|cell| cell.get().len() + 24).sum());
    object.push(b'{');
    for (position, cell) in cells.iter().enumerate() {
        if position > 0 {
            object.push(b',');
        }
        match keys.get(position) {
            Some(key) => object.extend_from_slice(key.as_bytes()),
            None => object.extend_from_slice(format!("\"column {}\"", position + 1).as_bytes()),
        }
        object.push(b':');
        object.extend_from_slice(cell.get().as_bytes());
    }
    object.push(b'}');
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetcher::record::decode;

    #[test]
    fn cells_are_mapped_by_column_name_and_dynamic_text_decodes() {
        let body = br#"{"tables":[{"name":"PrimaryResult","columns":[
            {"name":"LoggedByService","type":"string"},{"name":"Id","type":"string"},
            {"name":"InitiatedBy","type":"dynamic"},{"name":"AdditionalDetails","type":"dynamic"},
            {"name":"ActivityDateTime","type":"datetime"},{"name":"ResultReason","type":"string"},
            {"name":"ResultDescription","type":"string"}],
            "rows":[["Self-service Password Management","r1",
                "{\"user\":{\"userPrincipalName\":\"u@x\",\"ipAddress\":\"10.0.0.1\"}}",
                "[{\"key\":\"ClientType\",\"value\":\"Logon\"}]","2026-10-01T08:00:00.1234567Z",
                "","User started the flow"],
              ["Authentication Methods","r2",{"user":{"ipAddress":"::1"}},[],"2026-10-01T09:00:00Z",null,null]]}]}"#;
        let answer = read(body).unwrap();
        assert_eq!(answer.partial, None);
        assert_eq!(answer.rows.len(), 2);
        let first = decode(&answer.rows[0]).unwrap();
        assert_eq!(first.id.as_deref(), Some("r1"));
        assert_eq!(
            first.logged_by_service.as_deref(),
            Some("Self-service Password Management")
        );
        assert_eq!(
            first
                .initiated_by
                .unwrap()
                .user
                .unwrap()
                .ip_address
                .as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(first.additional_details[0].value.as_deref(), Some("Logon"));
        assert_eq!(
            first.result_reason.as_deref(),
            Some("User started the flow")
        );
        // A dynamic cell that arrives as an object is accepted too.
        let second = decode(&answer.rows[1]).unwrap();
        assert_eq!(
            second
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
    fn a_partial_error_marks_the_answer_partial() {
        let body = br#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"Id","type":"string"}],"rows":[["a"]]}],
            "error":{"code":"PartialError","message":"There were some errors when processing your query.",
            "details":[{"code":"EngineError","message":"Query result set has exceeded the internal record count limit"}]}}"#;
        let answer = read(body).unwrap();
        assert_eq!(answer.rows.len(), 1);
        assert_eq!(
            answer.partial.as_deref(),
            Some("PartialError: There were some errors when processing your query.")
        );
    }

    #[test]
    fn rows_that_do_not_fit_the_columns_are_rejects_and_non_answers_are_errors() {
        let body =
            br#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"Id"},{"name":"Result"}],
            "rows":[["a","success"],["b"]]}]}"#;
        let answer = read(body).unwrap();
        assert_eq!(answer.rows, [br#"{"Id":"a","Result":"success"}"#.to_vec()]);
        assert_eq!(answer.rejects.len(), 1);
        assert_eq!(answer.rejects[0].index, 1);
        assert_eq!(answer.rejects[0].raw, br#"{"Id":"b"}"#.to_vec());
        assert!(read(b"").is_err());
        assert!(read(b"<html>gateway</html>").is_err());
        assert!(read(b"{}").is_err());
    }
}
