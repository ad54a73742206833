//! Where a self-service attempt got to and how it ended, read from the step texts of its rows.
//!
//! Entra writes each step of the SSPR flow as a `Self-service password reset flow activity
//! progress` row whose `resultReason` is the step's text, and the reset itself as a `Reset
//! password (self-service)` row. The texts vary between tenants and over time (the word "option"
//! comes and goes, methods have many names), so they are matched loosely: case-insensitive,
//! spaces collapsed, a trailing full stop ignored, by the words that carry the meaning.
//!
//! - The furthest step is the furthest any row shows (README, "funnel"); every attempt has at
//!   least `started`. A `Reset password (self-service)` row shows `completed` on success and
//!   `submitted_password` when it failed for a reason that comes after a password was typed
//!   (banned password, on-premises failure, an unrecognised reason).
//! - The final state is `completed` for a completed attempt; else the cause named by the last
//!   row (by time, then id) whose text names one; else `other_failure` when some row failed
//!   with a text naming no cause; else `no_outcome`.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::model::{ActivityKind, EventView, FinalState, FunnelStep};

/// Text lowercased, spaces collapsed, outer spaces and a trailing full stop removed.
fn normalized(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .join(" ")
        .trim_end_matches('.')
        .trim_end()
        .to_lowercase()
}

/// The step a flow row's text shows the user reached.
fn flow_step(text: &str) -> Option<FunnelStep> {
    let mentions = |words: &str| text.contains(words);
    if mentions("successfully reset") {
        Some(FunnelStep::Completed)
    } else if mentions("submitted a new password") || mentions("submitted new password") {
        Some(FunnelStep::SubmittedPassword)
    } else if mentions("completed all verification") {
        Some(FunnelStep::Verified)
    } else if mentions("presented with") && mentions("verification")
        || (text.starts_with("user started the ") || text.starts_with("user completed the "))
            && mentions("verification")
    {
        Some(FunnelStep::ShownOptions)
    } else if mentions("submitted their user id") || mentions("submitted the user id") {
        Some(FunnelStep::Started)
    } else {
        None
    }
}

/// The flow step a text shows and the ending it names.
type TextReading = (Option<FunnelStep>, Option<FinalState>);

/// What a step text says: the flow step it shows and the ending it names. Entra writes a few
/// dozen distinct texts, read once per thread and remembered (up to a bound, so hostile input
/// cannot grow the memo without limit).
fn read_text(text: &str) -> TextReading {
    const REMEMBERED: usize = 4096;
    thread_local! {
        static MEMO: RefCell<HashMap<Box<str>, TextReading, foldhash::fast::RandomState>> =
            RefCell::default();
    }
    MEMO.with_borrow_mut(|memo| {
        if let Some(known) = memo.get(text) {
            return *known;
        }
        let normal = normalized(text);
        let read = (flow_step(&normal), ending(&normal));
        if memo.len() < REMEMBERED {
            memo.insert(text.into(), read);
        }
        read
    })
}

/// The way an attempt ends that a row's text names, if any.
fn ending(text: &str) -> Option<FinalState> {
    let mentions = |words: &[&str]| words.iter().any(|word| text.contains(word));
    if mentions(&["policyviolation", "policy violation", "banned password"]) {
        Some(FinalState::BannedPassword)
    } else if mentions(&[
        "contacted an admin",
        "contacted the admin",
        "contacted admin",
    ]) {
        Some(FinalState::ContactedAdmin)
    } else if mentions(&["abandoned", "canceled", "cancelled"]) {
        Some(FinalState::Cancelled)
    } else if mentions(&["blocked for", "too many"]) {
        Some(FinalState::Blocked)
    } else if mentions(&[
        "insufficient authentication methods",
        "insufficient methods",
    ]) {
        Some(FinalState::InsufficientMethods)
    } else if mentions(&[
        "not enabled",
        "license",
        "licence",
        "not a member of the password reset",
    ]) {
        Some(FinalState::NotEnabled)
    } else if mentions(&["on-premises", "on premises", "onprem", "writeback"]) {
        Some(FinalState::OnPremFailure)
    } else {
        None
    }
}

fn failed(result: Option<&str>) -> bool {
    result.is_some_and(|result| {
        let result = result.trim();
        result.eq_ignore_ascii_case("failure") || result.eq_ignore_ascii_case("timeout")
    })
}

/// Accumulates the funnel evidence of one attempt's rows, in any order.
#[derive(Debug)]
pub struct FunnelTracker<K> {
    /// The furthest step a row showed.
    pub furthest: Option<FunnelStep>,
    /// The cause named by the latest row naming one, with that row's order key.
    pub last_ending: Option<(K, FinalState)>,
    /// Whether a row failed with a text naming no cause.
    pub unrecognised_failure: bool,
}

impl<K> Default for FunnelTracker<K> {
    fn default() -> Self {
        FunnelTracker {
            furthest: None,
            last_ending: None,
            unrecognised_failure: false,
        }
    }
}

impl<K: Ord> FunnelTracker<K> {
    /// Takes one row of the attempt into account; `order` gives the row's key sorting rows by
    /// time, then id (asked only when the row names a cause).
    pub fn add(&mut self, event: &EventView<'_>, order: impl FnOnce() -> K) {
        // `User started password reset` says no more than `started`, which every attempt has.
        if matches!(
            event.kind,
            ActivityKind::AdminReset
                | ActivityKind::ResetStarted
                | ActivityKind::DirectoryReset
                | ActivityKind::Other
        ) {
            return;
        }
        let (flow_step, ending) = read_text(event.result_reason.as_deref().unwrap_or_default());
        let failure = failed(event.result.as_deref());
        let step = match event.kind {
            ActivityKind::FlowProgress => flow_step,
            ActivityKind::SelfServiceReset if !failure => Some(FunnelStep::Completed),
            ActivityKind::SelfServiceReset => match ending {
                None | Some(FinalState::BannedPassword | FinalState::OnPremFailure) => {
                    Some(FunnelStep::SubmittedPassword)
                }
                Some(_) => None,
            },
            ActivityKind::SelfServiceUnlock => None,
            ActivityKind::AdminReset
            | ActivityKind::ResetStarted
            | ActivityKind::DirectoryReset
            | ActivityKind::Other => None,
        };
        self.furthest = self.furthest.max(step);
        match ending {
            Some(state) => self.end_with(order(), state),
            None => self.unrecognised_failure |= failure,
        }
    }

    fn end_with(&mut self, order: K, state: FinalState) {
        if self
            .last_ending
            .as_ref()
            .is_none_or(|(latest, _)| order > *latest)
        {
            self.last_ending = Some((order, state));
        }
    }

    /// Takes in what another tracker of the same attempt saw (another thread's rows).
    pub fn merge(&mut self, other: FunnelTracker<K>) {
        self.furthest = self.furthest.max(other.furthest);
        self.unrecognised_failure |= other.unrecognised_failure;
        if let Some((order, state)) = other.last_ending {
            self.end_with(order, state);
        }
    }

    /// The furthest step (at least `started`) and the final state of an attempt that
    /// `completed` or not.
    pub fn finish(&self, completed: bool) -> (FunnelStep, FinalState) {
        let furthest = self.furthest.unwrap_or(FunnelStep::Started);
        let state = if completed {
            FinalState::Completed
        } else if let Some((_, state)) = &self.last_ending {
            *state
        } else if self.unrecognised_failure {
            FinalState::OtherFailure
        } else {
            FinalState::NoOutcome
        };
        (furthest, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event<'a>(kind: ActivityKind, result: &'a str, reason: &'a str) -> EventView<'a> {
        EventView {
            id: "x".into(),
            kind,
            result: Some(result.into()),
            result_reason: Some(reason.into()),
            ..EventView::default()
        }
    }

    fn flow<'a>(result: &'a str, reason: &'a str) -> EventView<'a> {
        event(ActivityKind::FlowProgress, result, reason)
    }

    /// The funnel of rows given in time order.
    fn funnel(rows: &[EventView<'_>], completed: bool) -> (FunnelStep, FinalState) {
        let mut tracker = FunnelTracker::default();
        for (order, row) in rows.iter().enumerate() {
            tracker.add(row, || order);
        }
        tracker.finish(completed)
    }

    #[test]
    fn step_texts_match_loosely() {
        for (text, step) in [
            ("User submitted their user ID", FunnelStep::Started),
            (
                "User was presented with verification options",
                FunnelStep::ShownOptions,
            ),
            (
                "user WAS presented with  verification options.",
                FunnelStep::ShownOptions,
            ),
            (
                "User started the mobile app notification verification option",
                FunnelStep::ShownOptions,
            ),
            (
                "User completed the office voice call verification",
                FunnelStep::ShownOptions,
            ),
            (
                "User completed all verification steps required",
                FunnelStep::Verified,
            ),
            (
                "User submitted a new password",
                FunnelStep::SubmittedPassword,
            ),
            ("User successfully reset password.", FunnelStep::Completed),
        ] {
            assert_eq!(flow_step(&normalized(text)), Some(step), "{text}");
        }
        for text in [
            "User abandoned after completing the email verification option",
            "User canceled before passing the required authentication methods",
            "",
        ] {
            assert_eq!(flow_step(&normalized(text)), None, "{text}");
        }
    }

    #[test]
    fn every_documented_drop_off_names_its_cause() {
        use FinalState::*;
        for (text, state) in [
            (
                "User abandoned after completing the email verification option",
                Cancelled,
            ),
            (
                "User canceled before passing the required authentication methods",
                Cancelled,
            ),
            ("User canceled before submitting a new password", Cancelled),
            (
                "User contacted an admin after trying the email verification option",
                ContactedAdmin,
            ),
            (
                "User entered too many invalid mobile SMS codes and is blocked for 24 hours",
                Blocked,
            ),
            (
                "User tried mobile app code too many times and is blocked for 24 hours",
                Blocked,
            ),
            (
                "Password reset is not enabled for this user. Contact your admin to enable password reset.",
                NotEnabled,
            ),
            ("User does not have a license for this feature.", NotEnabled),
            (
                "This user is not a member of the password reset users group. Add this user to that group.",
                NotEnabled,
            ),
            (
                "User's account has insufficient authentication methods defined. Add authentication methods to reset this user's password.",
                InsufficientMethods,
            ),
            (
                "User's password is managed on-premises and writeback is not allowed",
                OnPremFailure,
            ),
            (
                "We could not reach your on-premises password reset service. Contact your admin to check password writeback.",
                OnPremFailure,
            ),
            ("FuzzyPolicyViolationInvalidPassword", BannedPassword),
            ("PasswordPolicyViolation", BannedPassword),
        ] {
            assert_eq!(ending(&normalized(text)), Some(state), "{text}");
        }
        assert_eq!(ending(&normalized("User submitted their user ID")), None);
    }

    #[test]
    fn a_completed_attempt_is_completed_whatever_else_it_shows() {
        let rows = [
            flow("success", "User submitted their user ID"),
            event(
                ActivityKind::SelfServiceReset,
                "failure",
                "FuzzyPolicyViolationInvalidPassword",
            ),
            event(
                ActivityKind::SelfServiceReset,
                "success",
                "Successfully completed reset.",
            ),
        ];
        assert_eq!(
            funnel(&rows, true),
            (FunnelStep::Completed, FinalState::Completed)
        );
    }

    #[test]
    fn the_last_named_cause_wins_and_unnamed_failures_come_last() {
        let rows = [
            flow("success", "User submitted their user ID"),
            flow("success", "User was presented with verification options"),
            flow(
                "failure",
                "User contacted an admin after trying the email verification option",
            ),
            flow(
                "failure",
                "User canceled before passing the required authentication methods",
            ),
            flow("failure", "Something Entra says tomorrow"),
        ];
        assert_eq!(
            funnel(&rows, false),
            (FunnelStep::ShownOptions, FinalState::Cancelled)
        );
        assert_eq!(
            funnel(&[rows[0].clone(), rows[4].clone()], false),
            (FunnelStep::Started, FinalState::OtherFailure)
        );
        assert_eq!(
            funnel(&rows[..2], false),
            (FunnelStep::ShownOptions, FinalState::NoOutcome)
        );
    }

    #[test]
    fn a_failed_reset_row_shows_a_submitted_password_only_after_one_was_typed() {
        let banned = [event(
            ActivityKind::SelfServiceReset,
            "failure",
            "FuzzyPolicyViolationInvalidPassword",
        )];
        assert_eq!(
            funnel(&banned, false),
            (FunnelStep::SubmittedPassword, FinalState::BannedPassword)
        );
        let unknown = [event(ActivityKind::SelfServiceReset, "failure", "E1234")];
        assert_eq!(
            funnel(&unknown, false),
            (FunnelStep::SubmittedPassword, FinalState::OtherFailure)
        );
        let not_enabled = [event(
            ActivityKind::SelfServiceReset,
            "failure",
            "Password reset is not enabled for this user.",
        )];
        assert_eq!(
            funnel(&not_enabled, false),
            (FunnelStep::Started, FinalState::NotEnabled)
        );
    }

    #[test]
    fn trackers_that_saw_different_rows_merge() {
        let rows = [
            flow("success", "User completed all verification steps"),
            flow(
                "failure",
                "User contacted an admin after trying the email option",
            ),
            flow("failure", "User canceled before submitting a new password"),
        ];
        let whole = funnel(&rows, false);
        for split in 0..=rows.len() {
            let (mut first, mut second) = (FunnelTracker::default(), FunnelTracker::default());
            rows.iter()
                .enumerate()
                .take(split)
                .for_each(|(order, row)| first.add(row, || order));
            rows.iter()
                .enumerate()
                .skip(split)
                .for_each(|(order, row)| second.add(row, || order));
            second.merge(first);
            assert_eq!(second.finish(false), whole, "split at {split}");
        }
    }

    #[test]
    fn rows_out_of_order_give_the_same_answer() {
        let mut tracker = FunnelTracker::default();
        tracker.add(
            &flow("failure", "User canceled before submitting a new password"),
            || 2,
        );
        tracker.add(
            &flow(
                "failure",
                "User contacted an admin after trying the email option",
            ),
            || 1,
        );
        tracker.add(
            &flow("success", "User completed all verification steps"),
            || 0,
        );
        assert_eq!(
            tracker.finish(false),
            (FunnelStep::Verified, FinalState::Cancelled)
        );
    }
}
