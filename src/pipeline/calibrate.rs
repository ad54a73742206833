//! `ssprlens calibrate`: the test user's labelled resets → a rules file that puts each in its
//! channel (see [`crate::transformer::calibration`]), and what those rules make of the data:
//! the share of self-service reset attempts per channel and the client types still `unknown`.
//! With `--out` the file is written and the summary printed; without, the file is printed and
//! the summary goes to standard error.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::load::attempt_tables;
use crate::columns::attempts_from_frame;
use crate::config::CalibrateConfig;
use crate::error::Error;
use crate::model::{ADMIN_CHANNEL, Attempt, AttemptKind, UNKNOWN_CHANNEL};
use crate::reporter::ReportError;
use crate::reporter::export::write_bytes;
use crate::reporter::sanitize::for_display;
use crate::transformer::calibration::{Learnt, calibrated_rules, check, learn};
use crate::transformer::rules::ChannelRules;

/// The client types still in `unknown` the summary lists, at most.
const UNKNOWN_LISTED: usize = 10;

pub fn calibrate(config: &CalibrateConfig) -> Result<(), Error> {
    let mut tables = attempt_tables(&config.source, &config.base)?;
    let frame = tables.query("attempts", "SELECT * FROM attempts")?;
    let attempts = attempts_from_frame(&frame).map_err(|source| ReportError::Table {
        table: "attempts",
        source,
    })?;
    let resets: Vec<Attempt> = attempts
        .into_iter()
        .filter(|attempt| attempt.kind == AttemptKind::Reset)
        .collect();
    let users: Vec<Attempt> = resets
        .iter()
        .filter(|attempt| attempt.user.as_deref() == Some(config.user.as_str()))
        .cloned()
        .collect();
    let learnt = learn(&config.labels, &users, &config.user).map_err(Error::Calibrate)?;
    let (rules, comments) = calibrated_rules(&learnt, &config.base);
    let text = format!(
        "# Channel rules calibrated by `ssprlens calibrate` from the test resets of {}.\n\
         # Rules are tried in order; patterns are case-insensitive substrings (see `ssprlens rules`).\n\n{}",
        for_display(&config.user),
        rules.to_toml(&comments)
    );
    // What is checked is what the file says.
    let written = ChannelRules::from_toml(&text)
        .map_err(|err| Error::Calibrate(format!("the calibrated rules do not read back: {err}")))?;
    check(&learnt, &written).map_err(Error::Calibrate)?;
    let summary = summary(&learnt, &written, &resets, config.out.as_deref());
    match &config.out {
        Some(path) => {
            write_bytes(text.as_bytes(), Some(path))?;
            write_bytes(summary.as_bytes(), None)?;
        }
        None => {
            write_bytes(text.as_bytes(), None)?;
            eprint!("{summary}");
        }
    }
    Ok(())
}

/// The labelled attempts, the share of `resets` per channel under `rules`, and the client types
/// still in `unknown`, most frequent first.
fn summary(
    learnt: &[Learnt],
    rules: &ChannelRules,
    resets: &[Attempt],
    out: Option<&std::path::Path>,
) -> String {
    let mut text = String::new();
    if let Some(path) = out {
        let _ = writeln!(text, "Wrote the calibrated rules to {}.", path.display());
    }
    let _ = writeln!(text, "Labelled test resets:");
    for learnt in learnt {
        let attempt = &learnt.attempt;
        let _ = writeln!(
            text,
            "  {:<16} {}  {}  client type {}  user agent {}",
            learnt.label.channel,
            attempt.started.map_or_else(String::new, |time| time
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()),
            for_display(&attempt.id),
            shown(attempt.client_type.as_deref()),
            shown(attempt.user_agent.as_deref()),
        );
    }
    let mut per_channel: HashMap<&str, u64> = HashMap::new();
    let mut unknown: HashMap<&str, u64> = HashMap::new();
    for attempt in resets {
        let (client_type, user_agent) = (
            attempt.client_type.as_deref(),
            attempt.user_agent.as_deref(),
        );
        let channel = rules.classify(client_type, user_agent);
        *per_channel.entry(channel).or_default() += 1;
        if channel == UNKNOWN_CHANNEL {
            *unknown.entry(client_type.unwrap_or("none")).or_default() += 1;
        }
    }
    let total = resets.len() as u64;
    let _ = writeln!(
        text,
        "Self-service reset attempts under these rules ({total} in the data read):"
    );
    for channel in rules.channels() {
        if channel == ADMIN_CHANNEL {
            continue;
        }
        let count = per_channel.get(channel).copied().unwrap_or_default();
        let share = if total == 0 {
            0.0
        } else {
            count as f64 / total as f64 * 100.0
        };
        let _ = writeln!(text, "  {channel:<16} {count:>8}  {share:>5.1} %");
    }
    let mut unknown: Vec<(&str, u64)> = unknown.into_iter().collect();
    unknown.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if unknown.is_empty() {
        let _ = writeln!(text, "No client type is left in `unknown`.");
    } else {
        let _ = writeln!(
            text,
            "Client types still in `unknown` (the {} most frequent; `none`: no client type):",
            UNKNOWN_LISTED.min(unknown.len())
        );
        for (value, count) in unknown.into_iter().take(UNKNOWN_LISTED) {
            let _ = writeln!(
                text,
                "  {count:>8}  {}",
                shown(Some(value).filter(|v| *v != "none"))
            );
        }
    }
    text
}

fn shown(value: Option<&str>) -> String {
    value.map_or_else(
        || "none".to_owned(),
        |value| format!("`{}`", for_display(value)),
    )
}
