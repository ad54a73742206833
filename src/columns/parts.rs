//! Attempt parts in columns: what the store keeps of each batch's attempts (per batch and day,
//! one row per correlation id of the batch's records of that day and one per helpdesk reset),
//! so that a report from the store merges parts instead of reading events.
//!
//! Every value is kept with the order of the row it came from (its time and tie), so parts of
//! one correlation id from different batches merge exactly as their rows would have. A table
//! of another shape (a column missing, of another type) is an error for the reader, never a
//! guess.

use chrono::{DateTime, Utc};
use polars::prelude::*;

use super::{nanos_of, time_nanos, utc_times};
use crate::model::{AttemptPart, FinalState, FunnelStep, RowOrder};

const KEY: &str = "key";
const ADMIN: &str = "admin";
const ROWS: &str = "rows";
const HAS_RESET_ROW: &str = "has_reset_row";
const HAS_UNLOCK_ROW: &str = "has_unlock_row";
const RESET_COMPLETED: &str = "reset_completed";
const UNLOCK_COMPLETED: &str = "unlock_completed";
const STARTED: &str = "started";
const ENDED: &str = "ended";
const CLIENT_TYPE: &str = "client_type";
const USER_AGENT: &str = "user_agent";
const USER: &str = "user";
const IP_ADDRESS: &str = "ip_address";
const FURTHEST_STEP: &str = "furthest_step";
const LAST_ENDING: &str = "last_ending";
const UNRECOGNISED_FAILURE: &str = "unrecognised_failure";

/// The columns of a text kept with the order of its row: `NAME`, `NAME_time`, `NAME_tie`.
struct OrderedTexts {
    value: StringChunkedBuilder,
    time: PrimitiveChunkedBuilder<Int64Type>,
    tie: PrimitiveChunkedBuilder<UInt64Type>,
}

impl OrderedTexts {
    fn new(name: &str, capacity: usize) -> Self {
        OrderedTexts {
            value: StringChunkedBuilder::new(name.into(), capacity),
            time: PrimitiveChunkedBuilder::new(format!("{name}_time").into(), capacity),
            tie: PrimitiveChunkedBuilder::new(format!("{name}_tie").into(), capacity),
        }
    }

    fn push(&mut self, value: Option<(RowOrder, &str)>) {
        self.value.append_option(value.map(|(_, value)| value));
        self.time
            .append_option(value.and_then(|(order, _)| nanos_of(order.time)));
        self.tie.append_option(value.map(|(order, _)| order.tie));
    }

    fn finish(self) -> PolarsResult<[Column; 3]> {
        Ok([
            self.value.finish().into_column(),
            utc_times(self.time.finish())?,
            self.tie.finish().into_column(),
        ])
    }
}

/// The parts table of `parts`.
pub fn parts_frame<'a>(parts: impl Iterator<Item = AttemptPart<'a>>) -> PolarsResult<DataFrame> {
    let capacity = parts.size_hint().0;
    let text = |name: &str| StringChunkedBuilder::new(name.into(), capacity);
    let flag = |name: &str| BooleanChunkedBuilder::new(name.into(), capacity);
    let time = |name: &str| PrimitiveChunkedBuilder::<Int64Type>::new(name.into(), capacity);
    let texts = |name: &str| OrderedTexts::new(name, capacity);
    let (mut key, mut admin, mut rows) = (
        text(KEY),
        flag(ADMIN),
        PrimitiveChunkedBuilder::<UInt32Type>::new(ROWS.into(), capacity),
    );
    let mut flags = [
        flag(HAS_RESET_ROW),
        flag(HAS_UNLOCK_ROW),
        flag(RESET_COMPLETED),
        flag(UNLOCK_COMPLETED),
        flag(UNRECOGNISED_FAILURE),
    ];
    let (mut started, mut ended) = (time(STARTED), time(ENDED));
    let mut values = [
        texts(CLIENT_TYPE),
        texts(USER_AGENT),
        texts(USER),
        texts(IP_ADDRESS),
    ];
    let mut furthest_step = text(FURTHEST_STEP);
    let mut last_ending = texts(LAST_ENDING);
    for part in parts {
        key.append_value(part.key);
        admin.append_value(part.admin);
        rows.append_value(part.rows);
        let part_flags = [
            part.has_reset_row,
            part.has_unlock_row,
            part.reset_completed,
            part.unlock_completed,
            part.unrecognised_failure,
        ];
        for (column, value) in flags.iter_mut().zip(part_flags) {
            column.append_value(value);
        }
        started.append_option(nanos_of(part.started));
        ended.append_option(nanos_of(part.ended));
        let part_values = [
            part.client_type,
            part.user_agent,
            part.user,
            part.ip_address,
        ];
        for (columns, value) in values.iter_mut().zip(part_values) {
            columns.push(value);
        }
        furthest_step.append_option(part.furthest_step.map(FunnelStep::as_str));
        last_ending.push(
            part.last_ending
                .map(|(order, state)| (order, state.as_str())),
        );
    }
    let [
        has_reset_row,
        has_unlock_row,
        reset_completed,
        unlock_completed,
        unrecognised_failure,
    ] = flags.map(|column| column.finish().into_column());
    let mut columns = vec![
        key.finish().into_column(),
        admin.finish().into_column(),
        rows.finish().into_column(),
        has_reset_row,
        has_unlock_row,
        reset_completed,
        unlock_completed,
        utc_times(started.finish())?,
        utc_times(ended.finish())?,
    ];
    for ordered in values {
        columns.extend(ordered.finish()?);
    }
    columns.push(furthest_step.finish().into_column());
    columns.extend(last_ending.finish()?);
    columns.push(unrecognised_failure);
    DataFrame::new_infer_height(columns)
}

/// Whether a table has the columns of a parts table (as [`parts_frame`] writes it), in order
/// and of their types.
pub fn is_parts_table(frame: &DataFrame) -> PolarsResult<bool> {
    Ok(parts_frame(std::iter::empty())?.schema() == frame.schema())
}

/// The correlation id of each part of a parts table, `None` for a helpdesk reset's.
pub fn part_keys(frame: &DataFrame) -> PolarsResult<Vec<Option<&str>>> {
    let keys = frame.column(KEY)?.str()?;
    let admin = frame.column(ADMIN)?.bool()?;
    Ok(keys
        .iter()
        .zip(admin.iter())
        .map(|(key, admin)| key.filter(|_| admin != Some(true)))
        .collect())
}

/// The parts of a parts table (as [`parts_frame`] writes it), borrowing its texts; all of
/// them, or an error.
pub fn parts_from_frame(frame: &DataFrame) -> PolarsResult<Vec<AttemptPart<'_>>> {
    let texts = |name: &str| -> PolarsResult<Vec<Option<&str>>> {
        Ok(frame.column(name)?.str()?.iter().collect())
    };
    let flags = |name: &str| -> PolarsResult<Vec<bool>> {
        Ok(frame
            .column(name)?
            .bool()?
            .iter()
            .map(Option::unwrap_or_default)
            .collect())
    };
    let times = |name: &str| -> PolarsResult<Vec<Option<DateTime<Utc>>>> {
        Ok(time_nanos(frame.column(name)?)?
            .iter()
            .map(|nanos| nanos.map(DateTime::from_timestamp_nanos))
            .collect())
    };
    // A value with the order of its row; the time is null for a row without one.
    let ordered = |name: &str| -> PolarsResult<Vec<Option<(RowOrder, &str)>>> {
        let values = texts(name)?;
        let times = times(&format!("{name}_time"))?;
        let ties: Vec<Option<u64>> = frame
            .column(&format!("{name}_tie"))?
            .u64()?
            .iter()
            .collect();
        Ok(values
            .into_iter()
            .zip(times)
            .zip(ties)
            .map(|((value, time), tie)| Some((RowOrder { time, tie: tie? }, value?)))
            .collect())
    };
    let keys = texts(KEY)?;
    let (admin, has_reset_row, has_unlock_row) =
        (flags(ADMIN)?, flags(HAS_RESET_ROW)?, flags(HAS_UNLOCK_ROW)?);
    let (reset_completed, unlock_completed, unrecognised_failure) = (
        flags(RESET_COMPLETED)?,
        flags(UNLOCK_COMPLETED)?,
        flags(UNRECOGNISED_FAILURE)?,
    );
    let rows: Vec<Option<u32>> = frame.column(ROWS)?.u32()?.iter().collect();
    let (started, ended) = (times(STARTED)?, times(ENDED)?);
    let (client_types, user_agents) = (ordered(CLIENT_TYPE)?, ordered(USER_AGENT)?);
    let (users, ip_addresses) = (ordered(USER)?, ordered(IP_ADDRESS)?);
    let steps = texts(FURTHEST_STEP)?;
    let endings = ordered(LAST_ENDING)?;
    let mut parts = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        let last_ending = match endings[row] {
            Some((order, name)) => Some((
                order,
                FinalState::from_name(name)
                    .ok_or_else(|| polars_err!(ComputeError: "no final state `{name}`"))?,
            )),
            None => None,
        };
        parts.push(AttemptPart {
            key: keys[row].unwrap_or_default(),
            admin: admin[row],
            rows: rows[row].unwrap_or_default(),
            has_reset_row: has_reset_row[row],
            has_unlock_row: has_unlock_row[row],
            reset_completed: reset_completed[row],
            unlock_completed: unlock_completed[row],
            started: started[row],
            ended: ended[row],
            client_type: client_types[row],
            user_agent: user_agents[row],
            user: users[row],
            ip_address: ip_addresses[row],
            furthest_step: match steps[row] {
                Some(name) => Some(
                    FunnelStep::from_name(name)
                        .ok_or_else(|| polars_err!(ComputeError: "no funnel step `{name}`"))?,
                ),
                None => None,
            },
            last_ending,
            unrecognised_failure: unrecognised_failure[row],
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parts_survive_the_round_trip_through_a_frame() {
        let at = |second| Some(Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, second).unwrap());
        let order = |second, tie| RowOrder {
            time: at(second),
            tie,
        };
        let reset = AttemptPart {
            key: "6110cc3f-b281-483d-a77a-20aac45bf05a",
            admin: false,
            rows: 4,
            has_reset_row: true,
            has_unlock_row: false,
            reset_completed: false,
            unlock_completed: false,
            started: at(1),
            ended: at(9),
            client_type: Some((order(3, 7), "Logon")),
            user_agent: None,
            user: Some((order(1, u64::MAX), "ann@contoso.example")),
            ip_address: Some((RowOrder { time: None, tie: 0 }, " 198.51.100.7 ")),
            furthest_step: Some(FunnelStep::Verified),
            last_ending: Some((order(9, 1), FinalState::Blocked)),
            unrecognised_failure: true,
        };
        let admin = AttemptPart {
            key: "Directory_1",
            admin: true,
            rows: 1,
            has_reset_row: false,
            reset_completed: true,
            started: None,
            ended: None,
            client_type: None,
            user: None,
            ip_address: None,
            furthest_step: None,
            last_ending: None,
            unrecognised_failure: false,
            ..reset
        };
        let frame = parts_frame([reset, admin].into_iter()).unwrap();
        assert_eq!(parts_from_frame(&frame).unwrap(), [reset, admin]);
    }

    #[test]
    fn a_table_of_another_shape_is_an_error() {
        let frame = parts_frame(std::iter::empty()).unwrap();
        assert!(is_parts_table(&frame).unwrap());
        let without_ties = frame.drop("user_tie").unwrap();
        assert!(!is_parts_table(&without_ties).unwrap());
        assert!(parts_from_frame(&without_ties).is_err());
        let mut renamed = frame.clone();
        renamed.rename("rows", "row_count".into()).unwrap();
        assert!(!is_parts_table(&renamed).unwrap());
    }
}
