//! Flags self-service attempts that came from an IP address the user had not used before.
//!
//! "Before" means in the user's earlier self-service attempts (resets and unlocks) among the
//! data read, ordered by start time, then id. An attempt is flagged `true` when the user had
//! earlier attempts with an address and none used this one, `false` when one did, and left
//! `None` when there is no baseline (the user's first attempt with an address), when the attempt
//! has no address, user or time, and for helpdesk resets (their address is the helpdesk's).

use std::collections::HashSet;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use polars::prelude::*;

use crate::columns::{attempt_columns, time_nanos};
use crate::model::AttemptKind;

/// Sets the `new_ip_for_user` column of an `attempts` table.
pub fn mark_new_ips(attempts: &mut DataFrame) -> PolarsResult<()> {
    use attempt_columns::*;
    let texts = |name: &str| -> PolarsResult<Vec<Option<&str>>> {
        Ok(attempts.column(name)?.str()?.iter().collect())
    };
    let (ids, kinds, users, ips) = (texts(ID)?, texts(KIND)?, texts(USER)?, texts(IP_ADDRESS)?);
    let started: Vec<Option<i64>> = time_nanos(attempts.column(STARTED)?)?.iter().collect();
    // Each user's attempts together (users whose hashes collide share a run, told apart by
    // name), in the order of their start, then id.
    let user_hash = RandomState::default();
    let mut order: Vec<(u64, i64, usize)> = (0..ids.len())
        .filter(|&row| kinds[row] != Some(AttemptKind::Admin.as_str()) && ips[row].is_some())
        .filter_map(|row| Some((user_hash.hash_one(users[row]?), started[row]?, row)))
        .collect();
    order.sort_unstable_by(|(a_hash, a_started, a), (b_hash, b_started, b)| {
        (a_hash, a_started)
            .cmp(&(b_hash, b_started))
            .then_with(|| ids[*a].cmp(&ids[*b]))
    });
    let mut flags: Vec<Option<bool>> = vec![None; ids.len()];
    // Within the current run: users with an earlier attempt, and the addresses each used.
    let mut with_baseline: HashSet<&str, RandomState> = HashSet::default();
    let mut used: HashSet<(&str, &str), RandomState> = HashSet::default();
    let mut run = None;
    for (hash, _, row) in order {
        let (Some(user), Some(ip)) = (users[row], ips[row]) else {
            continue;
        };
        if run != Some(hash) {
            run = Some(hash);
            with_baseline.clear();
            used.clear();
        }
        let new = used.insert((user, ip));
        if !with_baseline.insert(user) {
            flags[row] = Some(new);
        }
    }
    attempts.with_column(Column::new(NEW_IP_FOR_USER.into(), flags))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::attempts_frame;
    use crate::model::{AdminSource, Attempt};
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
            completed_at: None,
            admin_source: (kind == AttemptKind::Admin).then_some(AdminSource::Portal),
            initiator: None,
        }
    }

    #[test]
    fn only_an_address_new_against_a_baseline_is_flagged() {
        let mut attempts = attempts_frame(&[
            attempt("d", AttemptKind::Reset, 9, "ann", Some("192.0.2.9")),
            attempt("a", AttemptKind::Reset, 1, "ann", Some("192.0.2.1")),
            attempt("b", AttemptKind::Admin, 2, "ann", Some("192.0.2.10")),
            attempt("c", AttemptKind::Unlock, 3, "ann", Some("192.0.2.1")),
            attempt("e", AttemptKind::Reset, 4, "ann", None),
            attempt("f", AttemptKind::Reset, 5, "bob", Some("192.0.2.9")),
        ])
        .unwrap();
        mark_new_ips(&mut attempts).unwrap();
        let ids = attempts.column("attempt_id").unwrap().str().unwrap();
        let new_ips = attempts.column("new_ip_for_user").unwrap().bool().unwrap();
        let flags: Vec<_> = ids
            .iter()
            .zip(new_ips.iter())
            .map(|(id, new)| (id.unwrap(), new))
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
