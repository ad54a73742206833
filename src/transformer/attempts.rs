//! Groups events into attempts and decides each attempt's channel and completion.
//!
//! The definitions (README, "Attempts"):
//! - a reset attempt is a correlation id with a flow-progress or `Reset password (self-service)`
//!   row and no `Unlock user account (self-service)` row; with an unlock row it is an unlock attempt;
//! - a reset is completed by a successful `Reset password (self-service)` row or a flow row
//!   `User successfully reset password`; an unlock by a successful unlock row;
//! - client type, user agent, user and IP address are the first non-empty values by time among
//!   all rows of the correlation id (ties broken by a fixed hash of the event id, so input order
//!   never matters);
//! - every `Reset password (by admin)` row is one attempt of channel `admin`, completed on success;
//! - a self-service attempt's furthest step and final state come from its rows' step texts
//!   ([`super::funnel`]); its IP network and whether its IP is new for the user are derived from
//!   its IP address ([`super::network`], [`super::ip_history`]).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::thread;

use foldhash::fast::FixedState;

use chrono::{DateTime, Utc};

use super::event::normalize_ip;
use super::funnel::FunnelTracker;
use super::ip_history::mark_new_ips;
use super::network::network_of;
use super::rules::ChannelRules;
use crate::model::{ADMIN_CHANNEL, ActivityKind, Attempt, AttemptKind, Event, EventView};

/// The flow step that marks a completed reset.
const RESET_SUCCEEDED_STEP: &str = "User successfully reset password";

/// Builds every attempt found in `events`, sorted by id. Events must already be deduplicated.
pub fn build_attempts(events: &[Event], rules: &ChannelRules) -> Vec<Attempt> {
    let mut builder = AttemptBuilder::default();
    for event in events {
        builder.add(&event.view());
    }
    builder.finish(rules)
}

/// Attempts in the making: events are added one at a time, in any order, and builders that saw
/// different events (threads reading different parts of the input) merge. It keeps a small state
/// per correlation id and per admin reset, never the events.
#[derive(Default)]
pub struct AttemptBuilder {
    groups: HashMap<String, Group, foldhash::fast::RandomState>,
    admin: Vec<Attempt>,
}

impl AttemptBuilder {
    /// Adds one (deduplicated) event.
    pub fn add(&mut self, event: &EventView<'_>) {
        if event.kind == ActivityKind::AdminReset {
            self.admin.push(admin_attempt(event));
        }
        if let Some(correlation_id) = event.correlation_id.as_deref() {
            match self.groups.get_mut(correlation_id) {
                Some(group) => group.add(event),
                None => {
                    let mut group = Group::default();
                    group.add(event);
                    self.groups.insert(correlation_id.to_owned(), group);
                }
            }
        }
    }

    /// Takes in what another builder saw.
    pub fn merge(&mut self, mut other: AttemptBuilder) {
        // The smaller map goes into the larger one.
        if self.groups.len() < other.groups.len() {
            std::mem::swap(self, &mut other);
        }
        self.admin.extend(other.admin);
        for (correlation_id, group) in other.groups {
            match self.groups.get_mut(&correlation_id) {
                Some(mine) => mine.merge(group),
                None => {
                    self.groups.insert(correlation_id, group);
                }
            }
        }
    }

    /// The attempts, sorted by id.
    pub fn finish(self, rules: &ChannelRules) -> Vec<Attempt> {
        // Each group becomes its attempt on its own (channel, network): a share per core, each
        // sorted on its own thread, then the sorted shares merged.
        let mut groups: Vec<(String, Group)> = self.groups.into_iter().collect();
        let cores = thread::available_parallelism().map_or(1, usize::from);
        let share = groups.len().div_ceil(cores).max(1);
        let mut admin = self.admin;
        admin.sort_unstable_by(by_id);
        let mut attempts = thread::scope(|scope| {
            let mut shares = Vec::new();
            while !groups.is_empty() {
                let mine = groups.split_off(groups.len().saturating_sub(share));
                shares.push(scope.spawn(move || {
                    let mut attempts: Vec<Attempt> = mine
                        .into_iter()
                        .filter_map(|(correlation_id, group)| {
                            group.into_attempt(correlation_id, rules)
                        })
                        .collect();
                    attempts.sort_unstable_by(by_id);
                    attempts
                }));
            }
            shares
                .into_iter()
                .map(|share| share.join().expect("a finishing thread panicked"))
                .fold(admin, merge_sorted)
        });
        mark_new_ips(&mut attempts);
        attempts
    }
}

/// The order of attempts: by id, then kind.
fn by_id(a: &Attempt, b: &Attempt) -> Ordering {
    a.id.cmp(&b.id).then(a.kind.as_str().cmp(b.kind.as_str()))
}

/// Two lists sorted [`by_id`] as one sorted list.
fn merge_sorted(left: Vec<Attempt>, right: Vec<Attempt>) -> Vec<Attempt> {
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let (mut left, mut right) = (left.into_iter().peekable(), right.into_iter().peekable());
    loop {
        let next = match (left.peek(), right.peek()) {
            (Some(a), Some(b)) if by_id(a, b).is_le() => left.next(),
            (Some(_), Some(_)) | (None, Some(_)) => right.next(),
            (Some(_), None) => left.next(),
            (None, None) => return merged,
        };
        merged.extend(next);
    }
}

fn admin_attempt(event: &EventView<'_>) -> Attempt {
    let ip_address = event.ip_address.as_deref().map(normalize_ip);
    Attempt {
        id: event.id.clone().into_owned(),
        kind: AttemptKind::Admin,
        channel: ADMIN_CHANNEL.to_owned(),
        client_type: owned(&event.client_type),
        user_agent: owned(&event.user_agent),
        completed: is_success(event.result.as_deref()),
        started: event.time,
        ended: event.time,
        user: user_of(event),
        ip_network: ip_address.as_deref().and_then(network_of),
        ip_address,
        rows: 1,
        furthest_step: None,
        final_state: None,
        new_ip_for_user: None,
        local: None,
    }
}

fn owned(text: &Option<Cow<'_, str>>) -> Option<String> {
    text.as_deref().map(str::to_owned)
}

fn is_success(result: Option<&str>) -> bool {
    result.is_some_and(|result| result.trim().eq_ignore_ascii_case("success"))
}

fn is_reset_succeeded_step(reason: Option<&str>) -> bool {
    reason.is_some_and(|reason| {
        reason
            .trim()
            .trim_end_matches('.')
            .eq_ignore_ascii_case(RESET_SUCCEEDED_STEP)
    })
}

/// The user an event is about: target UPN (lowercased), target id, initiator UPN, initiator id.
fn user_of(event: &EventView<'_>) -> Option<String> {
    event
        .target_upn
        .as_deref()
        .map(str::to_lowercase)
        .or_else(|| owned(&event.target_id))
        .or_else(|| event.initiator_upn.as_deref().map(str::to_lowercase))
        .or_else(|| owned(&event.initiator_id))
}

/// Orders rows by time (rows without one last), then by a fixed hash of their id: any order
/// that does not depend on the input's would do, and a number is smaller to keep than the id.
type RowOrder = (bool, Option<DateTime<Utc>>, u64);

fn row_order(event: &EventView<'_>) -> RowOrder {
    const ID_ORDER: FixedState = FixedState::with_seed(0x5353_5052);
    (
        event.time.is_none(),
        event.time,
        ID_ORDER.hash_one(event.id.as_ref()),
    )
}

/// The value of the earliest row that has one.
struct Earliest<T> {
    best: Option<(RowOrder, T)>,
}

impl<T> Default for Earliest<T> {
    fn default() -> Self {
        Earliest { best: None }
    }
}

impl<T> Earliest<T> {
    fn is_before(&self, order: &RowOrder) -> bool {
        self.best.as_ref().is_none_or(|(best, _)| order < best)
    }

    fn offer(&mut self, order: RowOrder, value: Option<T>) {
        if let Some(value) = value {
            self.best = Some((order, value));
        }
    }

    fn merge(&mut self, other: Earliest<T>) {
        if let Some((order, value)) = other.best
            && self.best.as_ref().is_none_or(|(mine, _)| order < *mine)
        {
            self.best = Some((order, value));
        }
    }

    fn take(self) -> Option<T> {
        self.best.map(|(_, value)| value)
    }
}

/// Everything known about one correlation id.
#[derive(Default)]
struct Group {
    has_reset_row: bool,
    has_unlock_row: bool,
    reset_completed: bool,
    unlock_completed: bool,
    rows: u32,
    started: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
    client_type: Earliest<String>,
    user_agent: Earliest<String>,
    user: Earliest<String>,
    /// As found (trimmed); canonical only once it is the attempt's.
    ip_address: Earliest<String>,
    funnel: FunnelTracker<RowOrder>,
}

impl Group {
    fn add(&mut self, event: &EventView<'_>) {
        match event.kind {
            ActivityKind::FlowProgress => {
                self.has_reset_row = true;
                self.reset_completed |= is_reset_succeeded_step(event.result_reason.as_deref());
            }
            ActivityKind::SelfServiceReset => {
                self.has_reset_row = true;
                self.reset_completed |= is_success(event.result.as_deref());
            }
            ActivityKind::SelfServiceUnlock => {
                self.has_unlock_row = true;
                self.unlock_completed |= is_success(event.result.as_deref());
            }
            ActivityKind::AdminReset | ActivityKind::Other => {}
        }
        self.rows += 1;
        if let Some(time) = event.time {
            self.started = Some(self.started.map_or(time, |started| started.min(time)));
            self.ended = Some(self.ended.map_or(time, |ended| ended.max(time)));
        }
        let order = row_order(event);
        self.funnel.add(event, || order);
        // Values are copied only when this row is the earliest so far to have one.
        if event.client_type.is_some() && self.client_type.is_before(&order) {
            self.client_type.offer(order, owned(&event.client_type));
        }
        if event.user_agent.is_some() && self.user_agent.is_before(&order) {
            self.user_agent.offer(order, owned(&event.user_agent));
        }
        if self.user.is_before(&order) {
            self.user.offer(order, user_of(event));
        }
        if event.ip_address.is_some() && self.ip_address.is_before(&order) {
            self.ip_address.offer(order, owned(&event.ip_address));
        }
    }

    fn merge(&mut self, other: Group) {
        self.has_reset_row |= other.has_reset_row;
        self.has_unlock_row |= other.has_unlock_row;
        self.reset_completed |= other.reset_completed;
        self.unlock_completed |= other.unlock_completed;
        self.rows += other.rows;
        self.started = match (self.started, other.started) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.ended = match (self.ended, other.ended) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.client_type.merge(other.client_type);
        self.user_agent.merge(other.user_agent);
        self.user.merge(other.user);
        self.ip_address.merge(other.ip_address);
        self.funnel.merge(other.funnel);
    }

    fn into_attempt(self, correlation_id: String, rules: &ChannelRules) -> Option<Attempt> {
        let (kind, completed) = if self.has_unlock_row {
            (AttemptKind::Unlock, self.unlock_completed)
        } else if self.has_reset_row {
            (AttemptKind::Reset, self.reset_completed)
        } else {
            return None;
        };
        let client_type = self.client_type.take();
        let user_agent = self.user_agent.take();
        let ip_address = self.ip_address.take().as_deref().map(normalize_ip);
        let (furthest_step, final_state) = self.funnel.finish(completed);
        Some(Attempt {
            id: correlation_id,
            kind,
            channel: rules
                .classify(client_type.as_deref(), user_agent.as_deref())
                .to_owned(),
            client_type,
            user_agent,
            completed,
            started: self.started,
            ended: self.ended,
            user: self.user.take(),
            ip_network: ip_address.as_deref().and_then(network_of),
            ip_address,
            rows: self.rows,
            furthest_step: Some(furthest_step),
            final_state: Some(final_state),
            new_ip_for_user: None,
            local: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FinalState, FunnelStep};
    use chrono::TimeZone;

    const FLOW: &str = "Self-service password reset flow activity progress";
    const RESET: &str = "Reset password (self-service)";

    /// A hand-written row: id, correlation id, seconds after 08:00, activity, result, reason, client type.
    fn row(
        id: &str,
        corr: &str,
        second: u32,
        activity: &str,
        result: &str,
        reason: &str,
        client_type: Option<&str>,
    ) -> Event {
        Event {
            id: id.into(),
            time: Some(Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, second).unwrap()),
            service: Some("Self-service Password Management".into()),
            category: None,
            activity: Some(activity.into()),
            kind: ActivityKind::of(Some(activity)),
            result: Some(result.into()),
            result_reason: Some(reason.into()),
            correlation_id: Some(corr.into()),
            initiator_upn: Some("Ann@Contoso.example".into()),
            initiator_id: None,
            initiator_app: None,
            target_upn: None,
            target_id: None,
            ip_address: None,
            client_type: client_type.map(Into::into),
            user_agent: None,
            details: vec![],
        }
    }

    fn build(events: &[Event]) -> Vec<Attempt> {
        build_attempts(events, &ChannelRules::builtin())
    }

    #[test]
    fn a_completed_reset_with_both_success_rows_counts_once() {
        let events = [
            row(
                "1",
                "c",
                0,
                FLOW,
                "success",
                "User submitted their user ID",
                None,
            ),
            row(
                "2",
                "c",
                9,
                FLOW,
                "success",
                "User successfully reset password",
                None,
            ),
            row(
                "3",
                "c",
                9,
                RESET,
                "success",
                "Successfully completed reset.",
                Some("Logon"),
            ),
            row("4", "c", 10, "Reset user password", "success", "", None),
        ];
        let attempts = build(&events);
        assert_eq!(attempts.len(), 1);
        let attempt = &attempts[0];
        assert_eq!(
            (attempt.kind, attempt.completed, attempt.rows),
            (AttemptKind::Reset, true, 4)
        );
        assert_eq!(attempt.channel, "login_screen");
        assert_eq!(attempt.user.as_deref(), Some("ann@contoso.example"));
    }

    #[test]
    fn either_success_row_alone_completes() {
        let flow_only = build(&[row(
            "1",
            "a",
            0,
            FLOW,
            "success",
            "User successfully reset password",
            None,
        )]);
        let reset_only = build(&[row(
            "1",
            "b",
            0,
            RESET,
            "success",
            "Successfully completed reset.",
            None,
        )]);
        let failed = build(&[
            row(
                "1",
                "c",
                0,
                FLOW,
                "success",
                "User submitted a new password",
                None,
            ),
            row(
                "2",
                "c",
                1,
                RESET,
                "failure",
                "FuzzyPolicyViolationInvalidPassword",
                None,
            ),
        ]);
        assert!(flow_only[0].completed && reset_only[0].completed);
        assert!(!failed[0].completed);
    }

    /// Rows of one attempt carrying different client types, the earliest (by time) on row "c".
    fn rows_with_client_types() -> Vec<Event> {
        vec![
            row(
                "a",
                "c",
                5,
                FLOW,
                "success",
                "User submitted a new password",
                Some("Web"),
            ),
            row(
                "b",
                "c",
                1,
                FLOW,
                "success",
                "User was presented with verification options",
                None,
            ),
            row(
                "c",
                "c",
                3,
                "Reset user password",
                "success",
                "",
                Some("Logon"),
            ),
            row("d", "c", 9, RESET, "success", "", Some("MobileApp")),
        ]
    }

    #[test]
    fn client_type_is_the_earliest_non_empty_whatever_the_input_order() {
        let mut events = rows_with_client_types();
        for _ in 0..events.len() {
            events.rotate_left(1);
            let attempts = build(&events);
            assert_eq!(attempts[0].client_type.as_deref(), Some("Logon"));
            assert_eq!(attempts[0].channel, "login_screen");
        }
    }

    #[test]
    fn builders_that_saw_different_rows_merge_into_the_same_attempts() {
        let mut events = rows_with_client_types();
        events.push(row(
            "e",
            "x",
            0,
            "Reset password (by admin)",
            "success",
            "",
            None,
        ));
        let whole = build(&events);
        for split in 0..=events.len() {
            let (mut first, mut second) = (AttemptBuilder::default(), AttemptBuilder::default());
            events[..split]
                .iter()
                .for_each(|event| first.add(&event.view()));
            events[split..]
                .iter()
                .for_each(|event| second.add(&event.view()));
            second.merge(first);
            assert_eq!(
                second.finish(&ChannelRules::builtin()),
                whole,
                "split at {split}"
            );
        }
    }

    #[test]
    fn unlock_rows_make_an_unlock_attempt() {
        let attempts = build(&[
            row(
                "1",
                "u",
                0,
                FLOW,
                "success",
                "User submitted their user ID",
                None,
            ),
            row(
                "2",
                "u",
                5,
                "Unlock user account (self-service)",
                "success",
                "",
                None,
            ),
            row(
                "3",
                "u",
                6,
                FLOW,
                "success",
                "User successfully reset password",
                None,
            ),
        ]);
        assert_eq!(
            (attempts[0].kind, attempts[0].completed),
            (AttemptKind::Unlock, true)
        );
    }

    #[test]
    fn admin_resets_are_one_attempt_per_row() {
        let attempts = build(&[
            row(
                "1",
                "x",
                0,
                "Reset password (by admin)",
                "success",
                "",
                None,
            ),
            row(
                "2",
                "x",
                1,
                "Reset password (by admin)",
                "failure",
                "",
                None,
            ),
        ]);
        let summary: Vec<_> = attempts
            .iter()
            .map(|a| (a.id.as_str(), a.kind, a.channel.as_str(), a.completed))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("1", AttemptKind::Admin, "admin", true),
                ("2", AttemptKind::Admin, "admin", false)
            ]
        );
    }

    #[test]
    fn self_service_attempts_get_a_funnel_a_network_and_an_ip_history() {
        let with_ip = |mut event: Event, ip: &str| {
            event.ip_address = Some(ip.into());
            event
        };
        let attempts = build(&[
            with_ip(
                row(
                    "1",
                    "a",
                    0,
                    FLOW,
                    "success",
                    "User submitted their user ID",
                    None,
                ),
                "198.51.100.7",
            ),
            with_ip(
                row(
                    "2",
                    "a",
                    1,
                    FLOW,
                    "failure",
                    "User entered too many invalid mobile SMS codes and is blocked for 24 hours",
                    None,
                ),
                "198.51.100.7",
            ),
            with_ip(
                row("3", "b", 9, RESET, "success", "", None),
                "2001:db8:1:2::3",
            ),
            with_ip(
                row(
                    "4",
                    "c",
                    5,
                    "Reset password (by admin)",
                    "success",
                    "",
                    None,
                ),
                "192.0.2.10",
            ),
        ]);
        let summary: Vec<_> = attempts
            .iter()
            .map(|a| {
                (
                    a.id.as_str(),
                    a.furthest_step.map(FunnelStep::as_str),
                    a.final_state.map(FinalState::as_str),
                    a.ip_network.as_deref(),
                    a.new_ip_for_user,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("4", None, None, Some("192.0.2.0/24"), None),
                (
                    "a",
                    Some("started"),
                    Some("blocked"),
                    Some("198.51.100.0/24"),
                    None
                ),
                (
                    "b",
                    Some("completed"),
                    Some("completed"),
                    Some("2001:db8:1::/48"),
                    Some(true)
                ),
            ]
        );
    }

    #[test]
    fn other_activities_never_make_attempts() {
        let attempts = build(&[
            row(
                "1",
                "b",
                0,
                "Blocked from self-service password reset",
                "success",
                "",
                Some("Logon"),
            ),
            row(
                "2",
                "p",
                0,
                "Change password (self-service)",
                "success",
                "",
                None,
            ),
            row(
                "3",
                "s",
                0,
                "Security info saved for self-service password reset",
                "success",
                "",
                None,
            ),
            row("4", "d", 0, "Reset user password", "success", "", None),
        ]);
        assert!(attempts.is_empty());
    }
}
