//! Flags self-service attempts that came from an IP address the user had not used before.
//!
//! "Before" means in the user's earlier self-service attempts (resets and unlocks) among the
//! data read, ordered by start time, then id. An attempt is flagged `true` when the user had
//! earlier attempts with an address and none used this one, `false` when one did, and left
//! `None` when there is no baseline (the user's first attempt with an address), when the attempt
//! has no address, user or time, and for helpdesk resets (their address is the helpdesk's).

use std::collections::{HashMap, HashSet};

use foldhash::fast::RandomState;

use crate::model::{Attempt, AttemptKind};

/// Sets `new_ip_for_user` on every attempt.
pub fn mark_new_ips(attempts: &mut [Attempt]) {
    let mut order: Vec<usize> = (0..attempts.len())
        .filter(|&index| {
            let attempt = &attempts[index];
            attempt.kind != AttemptKind::Admin
                && attempt.started.is_some()
                && attempt.user.is_some()
                && attempt.ip_address.is_some()
        })
        .collect();
    order.sort_by(|&a, &b| {
        (attempts[a].started, &attempts[a].id).cmp(&(attempts[b].started, &attempts[b].id))
    });
    let mut seen: HashMap<&str, HashSet<&str, RandomState>, RandomState> = HashMap::default();
    let flags: Vec<(usize, Option<bool>)> = order
        .into_iter()
        .filter_map(|index| {
            let attempt = &attempts[index];
            let (Some(user), Some(ip)) = (&attempt.user, &attempt.ip_address) else {
                return None;
            };
            let earlier = seen.entry(user).or_default();
            let flag = (!earlier.is_empty()).then(|| !earlier.contains(ip.as_str()));
            earlier.insert(ip);
            Some((index, flag))
        })
        .collect();
    for (index, flag) in flags {
        attempts[index].new_ip_for_user = flag;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn attempt(id: &str, kind: AttemptKind, hour: u32, user: &str, ip: Option<&str>) -> Attempt {
        Attempt {
            id: id.into(),
            kind,
            channel: "web".into(),
            client_type: None,
            user_agent: None,
            completed: true,
            started: Some(Utc.with_ymd_and_hms(2026, 10, 1, hour, 0, 0).unwrap()),
            ended: None,
            user: Some(user.into()),
            ip_address: ip.map(Into::into),
            rows: 1,
            furthest_step: None,
            final_state: None,
            ip_network: None,
            new_ip_for_user: None,
            local: None,
        }
    }

    #[test]
    fn only_an_address_new_against_a_baseline_is_flagged() {
        let mut attempts = vec![
            attempt("d", AttemptKind::Reset, 9, "ann", Some("192.0.2.9")),
            attempt("a", AttemptKind::Reset, 1, "ann", Some("192.0.2.1")),
            attempt("b", AttemptKind::Admin, 2, "ann", Some("192.0.2.10")),
            attempt("c", AttemptKind::Unlock, 3, "ann", Some("192.0.2.1")),
            attempt("e", AttemptKind::Reset, 4, "ann", None),
            attempt("f", AttemptKind::Reset, 5, "bob", Some("192.0.2.9")),
        ];
        mark_new_ips(&mut attempts);
        let flags: Vec<_> = attempts
            .iter()
            .map(|a| (a.id.as_str(), a.new_ip_for_user))
            .collect();
        assert_eq!(
            flags,
            vec![
                ("d", Some(true)),
                ("a", None),
                ("b", None),
                ("c", Some(false)),
                ("e", None),
                ("f", None),
            ]
        );
    }
}
