//! ssprlens' lean decoder against sonic-rs and simd-json: each reads every line of an NDJSON
//! file into the [`RecordView`] the lean decoder gives, one thread, the file in memory. Every
//! line the lean decoder accepts must give the same view from both libraries.

use std::borrow::Cow;
use std::time::Instant;

use simd_json::prelude::*;
use sonic_rs::{JsonValueTrait, LazyValue};

// ssprlens' own files, through the symbolic links in `src/ssprlens/` (whose directory also
// holds `model/reach.rs`, as `model.rs` expects): the code measured is the code shipped.
#[path = "ssprlens/lean.rs"]
mod lean;
#[allow(dead_code)]
#[path = "ssprlens/model.rs"]
mod model;
#[path = "ssprlens/scan.rs"]
mod scan;

use model::RecordView;

/// What the lean decoder keeps of a record besides the view: the envelope's fallbacks.
#[derive(Default)]
struct Fallbacks<'a> {
    time: Option<Cow<'a, str>>,
    operation_name: Option<Cow<'a, str>>,
    result_description: Option<Cow<'a, str>>,
}

/// The top-level string field `key` names, as the lean decoder matches keys (ignoring ASCII
/// case), or `None` for a key that is no string field.
fn top_field<'r, 'a>(
    key: &str,
    record: &'r mut RecordView<'a>,
    fallbacks: &'r mut Fallbacks<'a>,
) -> Option<&'r mut Option<Cow<'a, str>>> {
    let is = |name: &str| key.eq_ignore_ascii_case(name);
    Some(if is("id") {
        &mut record.id
    } else if is("activityDateTime") {
        &mut record.activity_date_time
    } else if is("activityDisplayName") {
        &mut record.activity_display_name
    } else if is("result") {
        &mut record.result
    } else if is("resultReason") {
        &mut record.result_reason
    } else if is("correlationId") {
        &mut record.correlation_id
    } else if is("userAgent") {
        &mut record.user_agent
    } else if is("callerIpAddress") {
        &mut record.caller_ip_address
    } else if is("time") || is("TimeGenerated") {
        &mut fallbacks.time
    } else if is("operationName") {
        &mut fallbacks.operation_name
    } else if is("resultDescription") {
        &mut fallbacks.result_description
    } else {
        return None;
    })
}

/// The lean decoder's last steps: fallbacks, and a record needs an id.
fn finish<'a>(mut record: RecordView<'a>, fallbacks: Fallbacks<'a>) -> Option<RecordView<'a>> {
    if record.id.as_deref().is_none_or(|id| id.trim().is_empty()) {
        return None;
    }
    record.activity_date_time = record.activity_date_time.or(fallbacks.time);
    record.activity_display_name = record.activity_display_name.or(fallbacks.operation_name);
    if record
        .result_reason
        .as_deref()
        .is_none_or(|reason| reason.trim().is_empty())
        && fallbacks.result_description.is_some()
    {
        record.result_reason = fallbacks.result_description;
    }
    Some(record)
}

mod sonic {
    use super::*;

    /// A string or null, borrowed when it holds no escape.
    pub(super) fn text<'a>(value: &LazyValue<'a>) -> Option<Option<Cow<'a, str>>> {
        if value.is_null() {
            return Some(None);
        }
        if !value.is_str() {
            return None;
        }
        match value.as_raw_cow() {
            Cow::Borrowed(raw) if !raw.contains('\\') => {
                Some(Some(Cow::Borrowed(&raw[1..raw.len() - 1])))
            }
            raw => sonic_rs::from_str::<String>(&raw)
                .ok()
                .map(|text| Some(Cow::Owned(text))),
        }
    }

    /// The string fields of an object: `set` takes each by key.
    fn fields<'a>(
        value: LazyValue<'a>,
        mut set: impl FnMut(&str, Option<Cow<'a, str>>),
    ) -> Option<()> {
        if value.is_null() {
            return Some(());
        }
        for item in value.into_object_iter()? {
            let (key, value) = item.ok()?;
            if let Some(text) = text(&value) {
                set(&key, text);
            }
        }
        Some(())
    }

    pub fn decode(line: &[u8]) -> Option<RecordView<'_>> {
        let text = simdutf8::basic::from_utf8(line).ok()?;
        let mut record = RecordView::default();
        let mut fallbacks = Fallbacks::default();
        for item in sonic_rs::to_object_iter(text) {
            let (key, value) = item.ok()?;
            if let Some(field) = top_field(&key, &mut record, &mut fallbacks) {
                *field = self::text(&value)?;
            } else if key.eq_ignore_ascii_case("initiatedBy") {
                initiator(value, &mut record)?;
            } else if key.eq_ignore_ascii_case("targetResources") {
                targets(value, &mut record)?;
            } else if key.eq_ignore_ascii_case("additionalDetails") {
                details(value, &mut record)?;
            } else if key.eq_ignore_ascii_case("properties") {
                return None;
            }
        }
        finish(record, fallbacks)
    }

    pub(super) fn initiator<'a>(value: LazyValue<'a>, record: &mut RecordView<'a>) -> Option<()> {
        if value.is_null() {
            return Some(());
        }
        for item in value.into_object_iter()? {
            let (key, value) = item.ok()?;
            if key.eq_ignore_ascii_case("user") {
                fields(value, |key, text| {
                    if key.eq_ignore_ascii_case("id") {
                        record.initiator_id = text;
                    } else if key.eq_ignore_ascii_case("userPrincipalName") {
                        record.initiator_upn = text;
                    } else if key.eq_ignore_ascii_case("ipAddress") {
                        record.initiator_ip = text;
                    }
                })?;
            } else if key.eq_ignore_ascii_case("app") {
                fields(value, |key, text| {
                    if key.eq_ignore_ascii_case("displayName") {
                        record.initiator_app = text;
                    }
                })?;
            }
        }
        Some(())
    }

    pub(super) fn targets<'a>(value: LazyValue<'a>, record: &mut RecordView<'a>) -> Option<()> {
        if value.is_null() {
            return Some(());
        }
        for target in value.into_array_iter()? {
            let (mut id, mut upn, mut kind) = (None, None, None);
            fields(target.ok()?, |key, text| {
                if key.eq_ignore_ascii_case("id") {
                    id = text;
                } else if key.eq_ignore_ascii_case("userPrincipalName") {
                    upn = text;
                } else if key.eq_ignore_ascii_case("type") {
                    kind = text;
                }
            })?;
            record.offer_target(id, upn, kind.as_deref());
        }
        Some(())
    }

    pub(super) fn details<'a>(value: LazyValue<'a>, record: &mut RecordView<'a>) -> Option<()> {
        if value.is_null() {
            return Some(());
        }
        for detail in value.into_array_iter()? {
            let (mut key, mut value) = (None, None);
            fields(detail.ok()?, |field, text| {
                if field.eq_ignore_ascii_case("key") {
                    key = text;
                } else if field.eq_ignore_ascii_case("value") {
                    value = text;
                }
            })?;
            if let Some(key) = key {
                record.offer_detail(&key, value);
            }
        }
        Some(())
    }
}

/// sonic-rs' `get_many`: one pass for Graph's own spelling of every field (pointer access is
/// exact, so a record of another spelling, one without `id`, goes through [`sonic::decode`]).
mod sonic_many {
    use super::*;
    use sonic_rs::PointerTree;

    const TEXTS: [&str; 12] = [
        "id",
        "activityDateTime",
        "activityDisplayName",
        "result",
        "resultReason",
        "correlationId",
        "userAgent",
        "callerIpAddress",
        "time",
        "TimeGenerated",
        "operationName",
        "resultDescription",
    ];

    pub fn tree() -> PointerTree {
        let mut tree = PointerTree::new();
        for path in TEXTS {
            tree.add_path([path]);
        }
        for path in [
            "initiatedBy",
            "targetResources",
            "additionalDetails",
            "properties",
        ] {
            tree.add_path([path]);
        }
        tree
    }

    pub fn decode<'a>(line: &'a [u8], tree: &PointerTree) -> Option<RecordView<'a>> {
        let text = simdutf8::basic::from_utf8(line).ok()?;
        let mut values = sonic_rs::get_many(text, tree).ok()?;
        if values[0].is_none() {
            return sonic::decode(line);
        }
        if values[15].is_some() {
            return None;
        }
        let mut record = RecordView::default();
        let mut fallbacks = Fallbacks::default();
        for (at, name) in TEXTS.iter().enumerate() {
            if let Some(value) = &values[at] {
                *top_field(name, &mut record, &mut fallbacks)? = sonic::text(value)?;
            }
        }
        if let Some(value) = values[12].take() {
            sonic::initiator(value, &mut record)?;
        }
        if let Some(value) = values[13].take() {
            sonic::targets(value, &mut record)?;
        }
        if let Some(value) = values[14].take() {
            sonic::details(value, &mut record)?;
        }
        finish(record, fallbacks)
    }
}

mod simd {
    use super::*;
    use simd_json::BorrowedValue;

    fn text<'v>(value: &'v BorrowedValue<'_>) -> Option<Option<Cow<'v, str>>> {
        if value.is_null() {
            return Some(None);
        }
        value.as_str().map(|text| Some(Cow::Borrowed(text)))
    }

    fn fields<'v>(
        value: &'v BorrowedValue<'_>,
        mut set: impl FnMut(&str, Option<Cow<'v, str>>),
    ) -> Option<()> {
        if value.is_null() {
            return Some(());
        }
        for (key, value) in value.as_object()? {
            if let Some(text) = text(value) {
                set(key, text);
            }
        }
        Some(())
    }

    /// Decodes `line` (copied into `scratch`, which simd-json rewrites in place).
    pub fn decode<'v>(value: &'v BorrowedValue<'_>) -> Option<RecordView<'v>> {
        let mut record = RecordView::default();
        let mut fallbacks = Fallbacks::default();
        // simd-json keeps an object's keys in a hash map; ssprlens reads them in record order,
        // which only matters for repeated keys, absent here.
        for (key, value) in value.as_object()? {
            if let Some(field) = top_field(key, &mut record, &mut fallbacks) {
                *field = text(value)?;
            } else if key.eq_ignore_ascii_case("initiatedBy") {
                if value.is_null() {
                    continue;
                }
                for (key, value) in value.as_object()? {
                    if key.eq_ignore_ascii_case("user") {
                        fields(value, |key, text| {
                            if key.eq_ignore_ascii_case("id") {
                                record.initiator_id = text;
                            } else if key.eq_ignore_ascii_case("userPrincipalName") {
                                record.initiator_upn = text;
                            } else if key.eq_ignore_ascii_case("ipAddress") {
                                record.initiator_ip = text;
                            }
                        })?;
                    } else if key.eq_ignore_ascii_case("app") {
                        fields(value, |key, text| {
                            if key.eq_ignore_ascii_case("displayName") {
                                record.initiator_app = text;
                            }
                        })?;
                    }
                }
            } else if key.eq_ignore_ascii_case("targetResources") {
                if value.is_null() {
                    continue;
                }
                for target in value.as_array()? {
                    let (mut id, mut upn, mut kind) = (None, None, None);
                    fields(target, |key, text| {
                        if key.eq_ignore_ascii_case("id") {
                            id = text;
                        } else if key.eq_ignore_ascii_case("userPrincipalName") {
                            upn = text;
                        } else if key.eq_ignore_ascii_case("type") {
                            kind = text;
                        }
                    })?;
                    record.offer_target(id, upn, kind.as_deref());
                }
            } else if key.eq_ignore_ascii_case("additionalDetails") {
                if value.is_null() {
                    continue;
                }
                for detail in value.as_array()? {
                    let (mut key, mut value) = (None, None);
                    fields(detail, |field, text| {
                        if field.eq_ignore_ascii_case("key") {
                            key = text;
                        } else if field.eq_ignore_ascii_case("value") {
                            value = text;
                        }
                    })?;
                    if let Some(key) = key {
                        record.offer_detail(&key, value);
                    }
                }
            } else if key.eq_ignore_ascii_case("properties") {
                return None;
            }
        }
        finish(record, fallbacks)
    }
}

/// Median seconds of `rounds` runs of `each` over every line; `each` returns whether it
/// accepted the line, and the count must be the same in every round.
fn time(rounds: usize, lines: &[&[u8]], mut each: impl FnMut(&[u8]) -> bool) -> (f64, usize) {
    let mut times = Vec::new();
    let mut accepted = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        accepted = lines.iter().filter(|line| each(line)).count();
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], accepted)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: decoders-bench FILE.ndjson [ROUNDS]");
    let rounds: usize = args
        .next()
        .map_or(5, |n| n.parse().expect("ROUNDS is a number"));
    let bytes = std::fs::read(&path).expect("readable input");
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .collect();

    // Equality first: every line the lean decoder accepts, both libraries read the same.
    let (mut scratch, mut buffers) = (Vec::new(), simd_json::Buffers::default());
    let tree = sonic_many::tree();
    let (mut lean_only, mut differ) = (0, 0);
    for line in &lines {
        let Some(lean) = lean::decode(line) else {
            continue;
        };
        let sonic = sonic::decode(line)
            .filter(|view| sonic_many::decode(line, &tree).as_ref() == Some(view));
        scratch.clear();
        scratch.extend_from_slice(line);
        let tree = simd_json::to_borrowed_value_with_buffers(&mut scratch, &mut buffers);
        let simd = tree.as_ref().ok().and_then(simd::decode);
        match (&sonic, &simd) {
            (Some(sonic), Some(simd)) if *sonic == lean && *simd == lean => {}
            (None, _) | (_, None) => lean_only += 1,
            _ => {
                differ += 1;
                if differ <= 3 {
                    eprintln!("differs: {}", String::from_utf8_lossy(line));
                }
            }
        }
    }
    println!(
        "{} lines, {} MB; lines the lean decoder accepts that a library declines: {lean_only}; read differently: {differ}",
        lines.len(),
        bytes.len() / 1_000_000
    );
    assert_eq!(differ, 0, "a library reads a line differently");

    let report = |name: &str, (seconds, accepted): (f64, usize)| {
        println!(
            "{name:<34} {:>7.1} ms  {:>6.0} ns/line  {:>6.0} MB/s  {accepted} accepted",
            seconds * 1e3,
            seconds * 1e9 / lines.len() as f64,
            bytes.len() as f64 / seconds / 1e6
        );
        seconds
    };
    let lean = report(
        "lean decoder (ssprlens)",
        time(rounds, &lines, |line| lean::decode(line).is_some()),
    );
    let sonic = report(
        "sonic-rs (lazy object iteration)",
        time(rounds, &lines, |line| sonic::decode(line).is_some()),
    );
    let sonic_many = report(
        "sonic-rs (get_many, camelCase paths)",
        time(rounds, &lines, |line| {
            sonic_many::decode(line, &tree).is_some()
        }),
    );
    let simd = report(
        "simd-json (borrowed value, tape)",
        time(rounds, &lines, |line| {
            scratch.clear();
            scratch.extend_from_slice(line);
            simd_json::to_borrowed_value_with_buffers(&mut scratch, &mut buffers)
                .ok()
                .and_then(|tree| simd::decode(&tree).map(|_| ()))
                .is_some()
        }),
    );
    println!(
        "time against the lean decoder: sonic-rs {:.2}x (get_many {:.2}x), simd-json {:.2}x",
        sonic / lean,
        sonic_many / lean,
        simd / lean
    );
}
