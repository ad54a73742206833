//! Learning a tenant's own ClientType values from labelled test resets: each label (a channel
//! and a time) names the test user's reset attempt that began nearest to that time, within
//! [`NEAREST`]; the attempt's raw client type (its user agent when it has none) becomes a rule
//! of that channel, put before the other rules (the longer values first, so that a value
//! holding another is not taken by the other's rule); rules under which a labelled attempt
//! would land in another channel are refused, with the reason.

use chrono::{DateTime, TimeDelta, Utc};

use super::rules::ChannelRules;
use crate::model::Attempt;
use crate::reporter::sanitize::for_display;

/// How far from its label's time a labelled attempt may have begun.
pub const NEAREST: TimeDelta = TimeDelta::minutes(30);

/// A test reset: the channel it was made through and about when it began.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub channel: String,
    /// The command-line option that gave it, for messages.
    pub option: String,
    pub time: DateTime<Utc>,
}

/// A labelled attempt and what it teaches.
#[derive(Debug, Clone, PartialEq)]
pub struct Learnt {
    pub label: Label,
    pub attempt: Attempt,
    pub pattern: Pattern,
}

/// What a rule learnt from an attempt matches.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    ClientType(String),
    UserAgent(String),
}

/// The labelled attempts among `attempts` (the user's reset attempts), in label order.
pub fn learn(labels: &[Label], attempts: &[Attempt], user: &str) -> Result<Vec<Learnt>, String> {
    let mut learnt: Vec<Learnt> = Vec::new();
    for label in labels {
        let attempt = nearest(label, attempts, user)?;
        if let Some(twice) = learnt.iter().find(|other| other.attempt.id == attempt.id) {
            return Err(format!(
                "{} and {} name the same attempt ({} begun {}): label two different test resets",
                twice.label.option,
                label.option,
                attempt.id,
                time_text(attempt.started)
            ));
        }
        let pattern = match (&attempt.client_type, &attempt.user_agent) {
            (Some(client_type), _) => Pattern::ClientType(client_type.clone()),
            (None, Some(user_agent)) => Pattern::UserAgent(user_agent.clone()),
            (None, None) => {
                return Err(format!(
                    "{} names attempt {} begun {}, which carries neither a client type nor a user agent: \
                     nothing tells its channel apart",
                    label.option,
                    attempt.id,
                    time_text(attempt.started)
                ));
            }
        };
        learnt.push(Learnt {
            label: label.clone(),
            attempt: attempt.clone(),
            pattern,
        });
    }
    Ok(learnt)
}

/// The user's attempt that began nearest to the label's time, within [`NEAREST`].
fn nearest<'a>(label: &Label, attempts: &'a [Attempt], user: &str) -> Result<&'a Attempt, String> {
    let distance = |attempt: &Attempt| attempt.started.map(|started| (started - label.time).abs());
    let best = attempts
        .iter()
        .filter_map(|attempt| Some((distance(attempt)?, attempt)))
        .filter(|(distance, _)| *distance <= NEAREST)
        .min_by(|(a, x), (b, y)| (a, &x.id).cmp(&(b, &y.id)));
    if let Some((_, attempt)) = best {
        return Ok(attempt);
    }
    let day = label.time.date_naive();
    let that_day: Vec<String> = attempts
        .iter()
        .filter(|attempt| {
            attempt
                .started
                .is_some_and(|started| started.date_naive() == day)
        })
        .map(|attempt| {
            format!(
                "\n  {}  client type {}  user agent {}  ({})",
                time_text(attempt.started),
                shown(attempt.client_type.as_deref()),
                shown(attempt.user_agent.as_deref()),
                attempt.id
            )
        })
        .collect();
    let listing = if that_day.is_empty() {
        format!(
            "{} has no reset attempt on {day} in the data read",
            for_display(user)
        )
    } else {
        format!(
            "{}'s reset attempts on {day}:{}",
            for_display(user),
            that_day.concat()
        )
    };
    Err(format!(
        "{} {}: no reset attempt of {} began within {} minutes of it; {listing}",
        label.option,
        label.time.format("%Y-%m-%dT%H:%M:%SZ"),
        for_display(user),
        NEAREST.num_minutes()
    ))
}

/// The rules learnt from `learnt` (longer values first, else in label order), before `base`;
/// with a comment per rule.
pub fn calibrated_rules(
    learnt: &[Learnt],
    base: &ChannelRules,
) -> (ChannelRules, Vec<Option<String>>) {
    let mut learnt: Vec<&Learnt> = learnt.iter().collect();
    learnt.sort_by_key(|learnt| {
        let (Pattern::ClientType(value) | Pattern::UserAgent(value)) = &learnt.pattern;
        std::cmp::Reverse(value.trim().chars().count())
    });
    let first = learnt
        .iter()
        .map(|learnt| {
            let channel = learnt.label.channel.clone();
            match &learnt.pattern {
                Pattern::ClientType(value) => (channel, vec![value.clone()], Vec::new()),
                Pattern::UserAgent(value) => (channel, Vec::new(), vec![value.clone()]),
            }
        })
        .collect();
    let mut comments: Vec<Option<String>> = learnt
        .iter()
        .map(|learnt| {
            let what = match &learnt.pattern {
                Pattern::ClientType(_) => "client type",
                Pattern::UserAgent(_) => "user agent (the attempt has no client type)",
            };
            Some(format!(
                "Learnt by `ssprlens calibrate` from {} {}: attempt {} begun {}, its {what}.",
                learnt.label.option,
                learnt.label.time.format("%Y-%m-%dT%H:%M:%SZ"),
                for_display(&learnt.attempt.id),
                time_text(learnt.attempt.started)
            ))
        })
        .collect();
    comments.push(Some(
        "The rules below were there before calibration: they classify everything else.".to_owned(),
    ));
    (base.after(first), comments)
}

/// Refuses rules under which a labelled attempt lands in another channel than its label's.
pub fn check(learnt: &[Learnt], rules: &ChannelRules) -> Result<(), String> {
    let wrong: Vec<String> = learnt
        .iter()
        .filter_map(|learnt| {
            let attempt = &learnt.attempt;
            let (client_type, user_agent) = (attempt.client_type.as_deref(), attempt.user_agent.as_deref());
            let channel = rules.classify(client_type, user_agent);
            if channel == learnt.label.channel {
                return None;
            }
            let why = match rules.matching_rule(client_type, user_agent) {
                Some((position, channel, field, pattern)) => format!(
                    "its {} {} matches rule {position} (channel `{channel}`, {field} pattern {}) first",
                    field.replace('_', " "),
                    shown(if field == "client_type" { client_type } else { user_agent }),
                    shown(Some(pattern))
                ),
                None => "no rule matches it".to_owned(),
            };
            Some(format!(
                "the {} test reset ({} begun {}) would land in `{channel}`, not `{}`: {why}",
                learnt.label.option,
                for_display(&attempt.id),
                time_text(attempt.started),
                learnt.label.channel
            ))
        })
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "refusing to write rules that contradict the labels: {}. The test resets of different channels \
             must differ in client type (or, without one, in user agent)",
            wrong.join("; ")
        ))
    }
}

fn time_text(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "at no known time".to_owned(),
        |time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

fn shown(value: Option<&str>) -> String {
    value.map_or_else(
        || "none".to_owned(),
        |value| format!("`{}`", for_display(value)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AttemptKind;
    use chrono::TimeZone;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 5, hour, minute, 0).unwrap()
    }

    fn attempt(
        id: &str,
        started: DateTime<Utc>,
        client_type: Option<&str>,
        user_agent: Option<&str>,
    ) -> Attempt {
        Attempt {
            id: id.into(),
            kind: AttemptKind::Reset,
            channel: "unknown".into(),
            client_type: client_type.map(Into::into),
            user_agent: user_agent.map(Into::into),
            completed: true,
            started: Some(started),
            ended: Some(started),
            user: Some("test@x".into()),
            ip_address: None,
            rows: 3,
            furthest_step: None,
            final_state: None,
            ip_network: None,
            new_ip_for_user: None,
            local: None,
            completed_at: None,
            admin_source: None,
            initiator: None,
        }
    }

    fn label(channel: &str, time: DateTime<Utc>) -> Label {
        Label {
            channel: channel.into(),
            option: format!("--{}", channel.replace('_', "-")),
            time,
        }
    }

    #[test]
    fn labels_take_the_nearest_attempt_within_half_an_hour() {
        let attempts = [
            attempt("a", at(9, 0), Some("SSPR_LogonUI"), None),
            attempt("b", at(9, 20), Some("SSPR_LogonUI_2"), None),
            attempt("c", at(14, 2), None, Some("Mozilla/5.0 Edge")),
        ];
        let learnt = learn(
            &[label("login_screen", at(9, 12)), label("web", at(14, 30))],
            &attempts,
            "test@x",
        )
        .unwrap();
        let picked: Vec<(&str, &Pattern)> = learnt
            .iter()
            .map(|l| (l.attempt.id.as_str(), &l.pattern))
            .collect();
        assert_eq!(
            picked,
            [
                ("b", &Pattern::ClientType("SSPR_LogonUI_2".into())),
                ("c", &Pattern::UserAgent("Mozilla/5.0 Edge".into()))
            ]
        );
        let err = learn(&[label("web", at(15, 0))], &attempts, "test@x").unwrap_err();
        assert!(err.contains("--web 2026-10-05T15:00:00Z"), "{err}");
        assert!(err.contains("within 30 minutes"), "{err}");
        for listed in [
            "2026-10-05T09:00:00Z  client type `SSPR_LogonUI`  user agent none  (a)",
            "(c)",
        ] {
            assert!(err.contains(listed), "{err}");
        }
        let other_day = label("web", Utc.with_ymd_and_hms(2026, 10, 6, 9, 0, 0).unwrap());
        assert!(
            learn(&[other_day], &attempts, "test@x")
                .unwrap_err()
                .contains("no reset attempt on 2026-10-06")
        );
    }

    #[test]
    fn learnt_rules_come_first_longer_values_first() {
        let base = ChannelRules::builtin();
        // The built-in rules would put both in `web` (`portal`), and `sspr_kiosk` is a substring
        // of the web value.
        let attempts = [
            attempt("login", at(9, 0), Some("SSPR_Kiosk_Portal"), None),
            attempt("web", at(14, 0), Some("SSPR_Kiosk_Portal_Web"), None),
        ];
        let labels = [label("login_screen", at(9, 0)), label("web", at(14, 0))];
        for labels in [labels.clone(), [labels[1].clone(), labels[0].clone()]] {
            let learnt = learn(&labels, &attempts, "test@x").unwrap();
            let (rules, comments) = calibrated_rules(&learnt, &base);
            check(&learnt, &rules).unwrap();
            assert_eq!(rules.rule_count(), base.rule_count() + 2);
            assert_eq!(
                rules.classify(Some("ssPR_kiosk_portal"), None),
                "login_screen"
            );
            assert_eq!(rules.classify(Some("SSPR_Kiosk_Portal_Web"), None), "web");
            assert_eq!(rules.classify(Some("Logon"), None), "login_screen");
            assert!(
                comments[0]
                    .as_deref()
                    .unwrap()
                    .contains("attempt web begun 2026-10-05T14:00:00Z")
            );
            assert!(
                comments[1]
                    .as_deref()
                    .unwrap()
                    .contains("from --login-screen 2026-10-05T09:00:00Z")
            );
        }
    }

    #[test]
    fn a_contradiction_is_refused_with_its_reason() {
        let attempts = [
            attempt("login", at(9, 0), Some("SSPR"), None),
            attempt("web", at(14, 0), Some("sspr"), None),
        ];
        let labels = [label("login_screen", at(9, 0)), label("web", at(14, 0))];
        let learnt = learn(&labels, &attempts, "test@x").unwrap();
        let (rules, _) = calibrated_rules(&learnt, &ChannelRules::builtin());
        let err = check(&learnt, &rules).unwrap_err();
        assert!(
            err.contains("the --web test reset (web begun 2026-10-05T14:00:00Z) would land in `login_screen`, not `web`"),
            "{err}"
        );
        assert!(err.contains("its client type `sspr` matches rule 1 (channel `login_screen`, client_type pattern `sspr`)"), "{err}");
        assert!(!err.contains("--login-screen test reset"), "{err}");
    }

    #[test]
    fn two_labels_of_one_attempt_are_refused() {
        let attempts = [attempt("only", at(9, 0), Some("X"), None)];
        let err = learn(
            &[label("login_screen", at(9, 0)), label("web", at(9, 10))],
            &attempts,
            "test@x",
        )
        .unwrap_err();
        assert!(err.contains("name the same attempt"), "{err}");
    }
}
