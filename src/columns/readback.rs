//! An `attempts` table read back into attempts, row by row: for `calibrate`, which judges
//! labelled attempts one by one, and for the tests that compare the loading routes.

use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;

use super::attempt_columns::*;
use super::{owned_texts, time_nanos};
use crate::model::{AdminSource, Attempt, AttemptKind, FinalState, FunnelStep, LocalPlacement};

/// The rows of an `attempts` table.
pub fn attempts_from_frame(frame: &DataFrame) -> PolarsResult<Vec<Attempt>> {
    let texts = |name: &str| owned_texts(frame, name);
    let flags = |name: &str| -> PolarsResult<Vec<Option<bool>>> {
        Ok(frame.column(name)?.bool()?.iter().collect())
    };
    let times = |name: &str| -> PolarsResult<Vec<Option<DateTime<Utc>>>> {
        Ok(time_nanos(frame.column(name)?)?
            .iter()
            .map(|nanos| nanos.map(DateTime::from_timestamp_nanos))
            .collect())
    };
    let dates = |name: &str| -> PolarsResult<Vec<Option<NaiveDate>>> {
        Ok(texts(name)?
            .iter()
            .map(|text| text.as_deref().and_then(|text| text.parse().ok()))
            .collect())
    };
    let (ids, kinds, channels) = (texts(ID)?, texts(KIND)?, texts(CHANNEL)?);
    let admin_sources = texts(ADMIN_SOURCE)?;
    let completed_at = times(COMPLETED_AT)?;
    let (client_types, user_agents, completed) =
        (texts(CLIENT_TYPE)?, texts(USER_AGENT)?, flags(COMPLETED)?);
    let (started, ended, users, ips) = (
        times(STARTED)?,
        times(ENDED)?,
        texts(USER)?,
        texts(IP_ADDRESS)?,
    );
    let rows: Vec<Option<u32>> = frame.column(ROWS)?.u32()?.iter().collect();
    let (steps, states, networks) = (
        texts(FURTHEST_STEP)?,
        texts(FINAL_STATE)?,
        texts(IP_NETWORK)?,
    );
    let (new_ips, days, periods, after_hours) = (
        flags(NEW_IP_FOR_USER)?,
        dates(DAY)?,
        dates(PERIOD)?,
        flags(AFTER_HOURS)?,
    );
    let kind_of = |text: Option<&str>| {
        [AttemptKind::Reset, AttemptKind::Unlock, AttemptKind::Admin]
            .into_iter()
            .find(|kind| Some(kind.as_str()) == text)
            .ok_or_else(|| polars_err!(ComputeError: "attempt kind {text:?}"))
    };
    (0..frame.height())
        .map(|row| {
            Ok(Attempt {
                id: ids[row].clone().unwrap_or_default(),
                kind: kind_of(kinds[row].as_deref())?,
                channel: channels[row].clone().unwrap_or_default(),
                client_type: client_types[row].clone(),
                user_agent: user_agents[row].clone(),
                completed: completed[row].unwrap_or_default(),
                started: started[row],
                ended: ended[row],
                user: users[row].clone(),
                ip_address: ips[row].clone(),
                rows: rows[row].unwrap_or_default(),
                furthest_step: steps[row].as_deref().and_then(FunnelStep::from_name),
                final_state: states[row].as_deref().and_then(FinalState::from_name),
                ip_network: networks[row].clone(),
                new_ip_for_user: new_ips[row],
                local: match (days[row], periods[row], after_hours[row]) {
                    (Some(day), Some(period), Some(after_hours)) => Some(LocalPlacement {
                        day,
                        period,
                        after_hours,
                    }),
                    _ => None,
                },
                completed_at: completed_at[row],
                admin_source: admin_sources[row]
                    .as_deref()
                    .and_then(AdminSource::from_name),
                initiator: None,
            })
        })
        .collect()
}
