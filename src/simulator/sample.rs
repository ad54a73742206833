//! The sample tenant of `data/sample`, built into the binary, as Graph serves it: what `demo`
//! and the tests seed the simulator with.

/// The sample tenant, as NDJSON, built into the binary.
const SAMPLE: &str = include_str!("../../data/sample/audit.ndjson");

/// The sample tenant's records as Graph serves them: top-level keys in Graph's spelling (the
/// sample capitalises some, as Log Analytics exports do).
pub fn sample_records() -> Vec<serde_json::Value> {
    SAMPLE
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(graph_spelling)
        .collect()
}

fn graph_spelling(record: serde_json::Value) -> serde_json::Value {
    match record {
        serde_json::Value::Object(fields) => fields
            .into_iter()
            .map(|(key, value)| {
                let mut chars = key.chars();
                let key = match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => key,
                };
                (key, value)
            })
            .collect(),
        other => other,
    }
}
