//! Checks on attempt building: rows of a small tenant, chosen from the vocabulary Entra writes,
//! read the way `ssprlens report` reads them, then folded into attempts every way the program can.
//!
//! Shared with the property tests (`tests/it/attempt_properties.rs`), which generate [`Row`]s
//! their own way.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use polars::prelude::{DataFrame, PolarsResult};

use crate::columns::{attempts_from_frame, parts_frame};
use crate::model::{ADMIN_CHANNEL, Attempt, AttemptKind, Event, FinalState, FunnelStep};
use crate::pipeline::RejectLog;
use crate::pipeline::load::{fold_files, read_files};
use crate::transformer::attempts::{AttemptBuilder, attempts_of_parts, build_attempts};
use crate::transformer::rules::ChannelRules;

const CORRELATION_IDS: [&str; 5] = [
    "6110cc3f-b281-483d-a77a-20aac45bf05a",
    "394459b3-fe82-46a6-9e4e-2447362167b2",
    "c3",
    "c4",
    " ",
];
const ACTIVITIES: [&str; 11] = [
    "Self-service password reset flow activity progress",
    "Self-service password reset flow activity progress",
    "Reset password (self-service)",
    "Unlock user account (self-service)",
    "Reset password (by admin)",
    "Change password (self-service)",
    "Blocked from self-service password reset",
    "User started password reset",
    "user started password reset",
    "Admin started password reset",
    "Reset user password",
];
/// Who initiates a Core Directory `Reset user password` row: a helpdesk user, a helpdesk
/// tool's app, or the password reset service (as a user, as an app, or the sync account).
const DIRECTORY_INITIATORS: [(Option<&str>, Option<&str>); 5] = [
    (Some("helpdesk@contoso.example"), None),
    (None, Some("Contoso Helpdesk Tool")),
    (Some("fim_password_service@support.onmicrosoft.com"), None),
    (None, Some("Microsoft password reset service")),
    (Some("Sync_DC01_0123456789ab@contoso.example"), None),
];
const RESULTS: [&str; 4] = ["success", "failure", "timeout", ""];
/// Step texts as Entra writes them (from `data/sample/`), and a few variants of spelling.
const STEP_TEXTS: [&str; 20] = [
    "User submitted their user ID",
    "User was presented with verification options",
    "User started the mobile SMS verification option",
    "User completed the email verification",
    "User completed all verification steps required",
    "User submitted a new password",
    "User successfully reset password",
    " user  successfully reset password. ",
    "Successfully completed reset.",
    "Successfully completed unlock.",
    "User canceled before submitting a new password",
    "User abandoned after completing the email verification option",
    "User entered too many invalid codes and is blocked for 24 hours",
    "User contacted an admin after trying the email verification option",
    "User's account has insufficient authentication methods defined. Add authentication methods to reset this user's password.",
    "Password reset is not enabled for this user. Contact your admin to enable password reset.",
    "We could not reach your on-premises password reset service. Contact your admin to check password writeback.",
    "PasswordPolicyViolation",
    "Something Entra never wrote before",
    "",
];
const CLIENT_TYPES: [&str; 8] = [
    "Logon",
    "CredentialProvider",
    "Web",
    "WebBrowser",
    "MobileApp",
    "unknownFutureValue",
    "",
    " Windows Logon ",
];
const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/129.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148 Safari/604.1",
    "Microsoft.AAD.SSPR.CredentialProvider/1.0",
    "",
];
const USERS: [&str; 4] = [
    "anna.tanaka@contoso.example",
    "Anna.Tanaka@Contoso.example",
    "bo.li@contoso.example",
    "",
];
const IP_ADDRESSES: [&str; 6] = [
    "198.51.100.7",
    "198.51.100.8",
    "::ffff:198.51.100.7",
    "[2001:db8::1]:443",
    "not an address",
    "",
];

/// Bytes of fuzz input per row.
pub const ROW_BYTES: usize = 8;
/// Rows read from one fuzz input, at most.
const MAX_ROWS: usize = 64;

/// One audit row, each field an index into its vocabulary (taken modulo the vocabulary's size).
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub correlation: u8,
    pub activity: u8,
    /// Minutes after 08:00 on 2026-10-01, modulo 16 so that rows often share a time (the
    /// tie-breaks matter); 224 and more: no time.
    pub minute: u8,
    pub result: u8,
    pub step_text: u8,
    /// Low nibble: the client type; high nibble: the user agent.
    pub client: u8,
    pub user: u8,
    pub ip_address: u8,
}

impl Row {
    pub fn from_bytes(bytes: [u8; ROW_BYTES]) -> Self {
        let [
            correlation,
            activity,
            minute,
            result,
            step_text,
            client,
            user,
            ip_address,
        ] = bytes;
        Row {
            correlation,
            activity,
            minute,
            result,
            step_text,
            client,
            user,
            ip_address,
        }
    }

    /// The row as one NDJSON line in Graph's shape, with record id `r<id>`.
    pub fn to_json(&self, id: usize) -> String {
        let pick = |list: &[&'static str], index: u8| list[usize::from(index) % list.len()];
        let time =
            (self.minute < 224).then(|| format!("2026-10-01T08:{:02}:00Z", self.minute % 16));
        let user = pick(&USERS, self.user);
        let ip_address = pick(&IP_ADDRESSES, self.ip_address);
        let activity = pick(&ACTIVITIES, self.activity);
        let (initiator, app) = match activity {
            "Reset password (by admin)" => (Some("helpdesk@contoso.example"), None),
            "Reset user password" => {
                DIRECTORY_INITIATORS[usize::from(self.result) % DIRECTORY_INITIATORS.len()]
            }
            _ => (Some(user), None),
        };
        let app = app.map(|name| serde_json::json!({"displayName": name}));
        serde_json::json!({
            "id": format!("r{id}"),
            "activityDateTime": time,
            "activityDisplayName": activity,
            "correlationId": pick(&CORRELATION_IDS, self.correlation),
            "result": pick(&RESULTS, self.result),
            "resultReason": pick(&STEP_TEXTS, self.step_text),
            "initiatedBy": {"user": {"userPrincipalName": initiator, "ipAddress": ip_address}, "app": app},
            "targetResources": [{"type": "User", "userPrincipalName": user}],
            "additionalDetails": [{"key": "ClientType", "value": pick(&CLIENT_TYPES, self.client & 0x0f)}],
            "userAgent": pick(&USER_AGENTS, self.client >> 4),
        })
        .to_string()
    }
}

/// Rows from fuzz input: every [`ROW_BYTES`] bytes are one row.
pub fn attempt_fold(data: &[u8]) {
    let rows: Vec<Row> = data
        .chunks_exact(ROW_BYTES)
        .take(MAX_ROWS)
        .map(|bytes| Row::from_bytes(bytes.try_into().expect("chunks are ROW_BYTES long")))
        .collect();
    let lines = ndjson(&rows);
    let rules = ChannelRules::builtin();
    let events = read_events(&lines);
    let attempts = attempts_of(&events, &rules);
    assert_attempt_invariants(&attempts, &events);

    let mut reversed = lines.clone();
    reversed.reverse();
    assert_eq!(
        attempts_of(&read_events(&reversed), &rules),
        attempts,
        "reversed input"
    );
    let doubled: Vec<String> = lines.iter().chain(&reversed).cloned().collect();
    assert_eq!(
        attempts_of(&read_events(&doubled), &rules),
        attempts,
        "every record twice"
    );
    assert_eq!(
        fold_in_parts(&events, data.len() % (events.len() + 1), &rules),
        attempts,
        "two partial folds merged"
    );
    assert_eq!(
        attempts_of_stored_parts(&events, data.len() % (events.len() + 1), &rules),
        attempts,
        "parts of two batches, as the store keeps them"
    );
    assert_eq!(fold_lines(&lines, &rules), attempts, "the parallel reader");
    assert_eq!(
        fold_lines(&doubled, &rules),
        attempts,
        "every record twice, to the parallel reader"
    );
}

/// The attempts of `events`, as rows of the `attempts` table sorted by id and kind.
pub fn attempts_of(events: &[Event], rules: &ChannelRules) -> Vec<Attempt> {
    rows(build_attempts(events, rules))
}

/// The rows of an `attempts` table, sorted by id and kind (the table's order means nothing).
pub fn rows(table: PolarsResult<DataFrame>) -> Vec<Attempt> {
    let mut rows =
        attempts_from_frame(&table.expect("attempts make a table")).expect("the table reads back");
    rows.sort_by(|a, b| (&a.id, a.kind.as_str()).cmp(&(&b.id, b.kind.as_str())));
    rows
}

/// The rows as NDJSON lines, row `i` with record id `r<i>`.
pub fn ndjson(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .enumerate()
        .map(|(id, row)| row.to_json(id))
        .collect()
}

/// Writes `lines` to a file and reads it as `ssprlens report` does: events deduplicated by id.
pub fn read_events(lines: &[String]) -> Vec<Event> {
    let file = write_lines(lines);
    let mut rejects = RejectLog::open(None).expect("no rejects file to open");
    let (events, _) =
        read_files(&[file.path().to_path_buf()], &mut rejects).expect("a file just written reads");
    assert_no_rejects(&rejects, lines);
    events
}

/// Writes `lines` to a file and folds it into attempts with the parallel reader, as reports of
/// attempts alone do.
pub fn fold_lines(lines: &[String], rules: &ChannelRules) -> Vec<Attempt> {
    let file = write_lines(lines);
    let mut rejects = RejectLog::open(None).expect("no rejects file to open");
    let (attempts, _) = fold_files(&[file.path().to_path_buf()], rules, &mut rejects)
        .expect("a file just written reads");
    assert_no_rejects(&rejects, lines);
    rows(Ok(attempts))
}

/// Attempts of `events` folded by two builders, one taking the events before `cut` and one those
/// after, merged as the reading threads' builders are.
pub fn fold_in_parts(events: &[Event], cut: usize, rules: &ChannelRules) -> Vec<Attempt> {
    let (before, after) = events.split_at(cut);
    let (mut first, mut second) = (AttemptBuilder::default(), AttemptBuilder::default());
    before.iter().for_each(|event| first.add(&event.view()));
    after.iter().for_each(|event| second.add(&event.view()));
    second.merge(first);
    rows(second.finish(rules))
}

/// Attempts of `events` as a report from the store makes them: two batches, one of the events
/// before `cut` and one of those after, each kept as its parts table, the tables merged.
pub fn attempts_of_stored_parts(
    events: &[Event],
    cut: usize,
    rules: &ChannelRules,
) -> Vec<Attempt> {
    let tables: Vec<DataFrame> = [&events[..cut], &events[cut..]]
        .iter()
        .map(|batch| {
            let mut builder = AttemptBuilder::default();
            batch.iter().for_each(|event| builder.add(&event.view()));
            parts_frame(builder.parts()).expect("parts make a table")
        })
        .collect();
    rows(attempts_of_parts(&tables, rules))
}

/// The rows are valid records; only a file without any is rejected (as empty).
fn assert_no_rejects(rejects: &RejectLog, lines: &[String]) {
    assert_eq!(rejects.count(), u64::from(lines.is_empty()), "rejects");
}

fn write_lines(lines: &[String]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".ndjson")
        .tempfile()
        .expect("a temporary file");
    for line in lines {
        writeln!(file, "{line}").expect("writing a temporary file");
    }
    file.flush().expect("writing a temporary file");
    file
}

/// What holds for any attempts built from `events`:
/// - every self-service attempt has exactly one furthest step and one final state, `completed`
///   exactly when it completed, and a completed reset reached the `completed` step;
/// - helpdesk resets are channel `admin`, one row each, with no funnel; nothing else is `admin`;
/// - a correlation id is at most one attempt, whose rows are that id's rows;
/// - per channel, completed attempts are at most the attempts.
pub fn assert_attempt_invariants(attempts: &[Attempt], events: &[Event]) {
    let mut rows_of: HashMap<&str, u32> = HashMap::new();
    for event in events {
        if let Some(correlation_id) = event.correlation_id.as_deref() {
            *rows_of.entry(correlation_id).or_default() += 1;
        }
    }
    let mut self_service_ids = HashSet::new();
    let mut per_channel: HashMap<&str, (usize, usize)> = HashMap::new();
    for attempt in attempts {
        assert!(attempt.rows >= 1, "{attempt:?}");
        assert_eq!(attempt.started.is_some(), attempt.ended.is_some());
        assert!(attempt.started <= attempt.ended, "{attempt:?}");
        let counts = per_channel.entry(&attempt.channel).or_default();
        counts.0 += 1;
        counts.1 += usize::from(attempt.completed);
        if attempt.kind == AttemptKind::Admin {
            assert_eq!(attempt.channel, ADMIN_CHANNEL);
            assert_eq!(
                (attempt.rows, attempt.furthest_step, attempt.final_state),
                (1, None, None)
            );
            assert_eq!(attempt.new_ip_for_user, None);
            continue;
        }
        assert_ne!(attempt.channel, ADMIN_CHANNEL, "{attempt:?}");
        assert!(
            self_service_ids.insert(&attempt.id),
            "two attempts of {}",
            attempt.id
        );
        assert_eq!(rows_of.get(attempt.id.as_str()), Some(&attempt.rows));
        let (Some(furthest), Some(state)) = (attempt.furthest_step, attempt.final_state) else {
            panic!("a self-service attempt without funnel: {attempt:?}");
        };
        assert_eq!(
            attempt.completed,
            state == FinalState::Completed,
            "{attempt:?}"
        );
        if attempt.kind == AttemptKind::Reset && attempt.completed {
            assert_eq!(furthest, FunnelStep::Completed, "{attempt:?}");
        }
    }
    for (channel, (count, completed)) in per_channel {
        assert!(
            completed <= count,
            "{channel}: {completed} completed of {count}"
        );
    }
}
