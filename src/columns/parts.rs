//! Attempt parts in columns: what the store keeps of each batch's attempts (per batch and day,
//! one row per correlation id of the batch's records of that day and one per helpdesk reset),
//! so that a report from the store merges parts instead of reading events.
//!
//! Every value is kept with the order of the row it came from (its time and tie), so parts of
//! one correlation id from different batches merge exactly as their rows would have. A table
//! of another shape (a column missing, of another type) is an error for the reader, never a
//! guess.

use chrono::DateTime;
use polars::prelude::*;

use super::{TakenColumns, nanos_of, time_nanos, utc_times};
use crate::model::{AdminSource, AttemptPart, FinalState, FunnelStep, RowOrder};

const KEY: &str = "key";
const ADMIN: &str = "admin";
const ADMIN_SOURCE: &str = "admin_source";
const INITIATOR: &str = "initiator";
const ROWS: &str = "rows";
const HAS_RESET_ROW: &str = "has_reset_row";
const HAS_UNLOCK_ROW: &str = "has_unlock_row";
const RESET_COMPLETED: &str = "reset_completed";
const UNLOCK_COMPLETED: &str = "unlock_completed";
const RESET_ROW_SUCCEEDED: &str = "reset_row_succeeded";
const FLOW_SUCCEEDED: &str = "flow_succeeded";
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
    let (mut admin_source, mut initiator) = (text(ADMIN_SOURCE), text(INITIATOR));
    let mut flags = [
        flag(HAS_RESET_ROW),
        flag(HAS_UNLOCK_ROW),
        flag(RESET_COMPLETED),
        flag(UNLOCK_COMPLETED),
        flag(UNRECOGNISED_FAILURE),
    ];
    let (mut started, mut ended) = (time(STARTED), time(ENDED));
    let (mut reset_row_succeeded, mut flow_succeeded) =
        (time(RESET_ROW_SUCCEEDED), time(FLOW_SUCCEEDED));
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
        admin_source.append_option(part.admin_source.map(AdminSource::as_str));
        initiator.append_option(part.initiator);
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
        reset_row_succeeded.append_option(nanos_of(part.reset_row_succeeded));
        flow_succeeded.append_option(nanos_of(part.flow_succeeded));
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
    columns.push(admin_source.finish().into_column());
    columns.push(initiator.finish().into_column());
    columns.push(utc_times(reset_row_succeeded.finish())?);
    columns.push(utc_times(flow_succeeded.finish())?);
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

/// The columns the attempts of the parts where `take` holds take from them unchanged; their
/// texts stay in the table's buffers, nothing is copied.
pub fn taken_columns(frame: &DataFrame, take: &BooleanChunked) -> PolarsResult<TakenColumns> {
    use super::attempt_columns as named;
    let column = |name: &str, as_name: &str| -> PolarsResult<Column> {
        Ok(frame.column(name)?.filter(take)?.with_name(as_name.into()))
    };
    Ok(TakenColumns {
        id: column(KEY, named::ID)?,
        client_type: column(CLIENT_TYPE, named::CLIENT_TYPE)?,
        user_agent: column(USER_AGENT, named::USER_AGENT)?,
        user: column(USER, named::USER)?,
        started: column(STARTED, named::STARTED)?,
        ended: column(ENDED, named::ENDED)?,
        rows: column(ROWS, named::ROWS)?,
    })
}

/// The columns of a text kept with the order of its row, as read.
struct OrderedColumns<'a> {
    values: &'a StringChunked,
    times: Int64Chunked,
    ties: &'a UInt64Chunked,
}

impl<'a> OrderedColumns<'a> {
    fn of(frame: &'a DataFrame, name: &str) -> PolarsResult<Self> {
        Ok(OrderedColumns {
            values: frame.column(name)?.str()?,
            times: time_nanos(frame.column(&format!("{name}_time"))?)?,
            ties: frame.column(&format!("{name}_tie"))?.u64()?,
        })
    }

    /// Each row's value with the order of its row; the time is null for a row without one.
    fn iter(&self) -> impl Iterator<Item = Option<(RowOrder, &'a str)>> + '_ {
        let times = self
            .times
            .iter()
            .map(|nanos| nanos.map(DateTime::from_timestamp_nanos));
        self.values
            .iter()
            .zip(times)
            .zip(self.ties.iter())
            .map(|((value, time), tie)| Some((RowOrder { time, tie: tie? }, value?)))
    }
}

/// The next value of a column.
fn next<T>(column: &mut impl Iterator<Item = Option<T>>) -> Option<T> {
    column.next().flatten()
}

/// Hands every part of a parts table (as [`parts_frame`] writes it) to `each`, in order,
/// borrowing its texts; an error for a table of another shape or a name it does not know.
pub fn for_each_part<'a>(
    frame: &'a DataFrame,
    mut each: impl FnMut(AttemptPart<'a>),
) -> PolarsResult<()> {
    let texts = |name: &str| frame.column(name)?.str();
    let flags = |name: &str| frame.column(name)?.bool();
    let times = |name: &str| time_nanos(frame.column(name)?);
    let (keys, admin, rows) = (texts(KEY)?, flags(ADMIN)?, frame.column(ROWS)?.u32()?);
    let (admin_sources, initiators) = (texts(ADMIN_SOURCE)?, texts(INITIATOR)?);
    let (has_reset_row, has_unlock_row) = (flags(HAS_RESET_ROW)?, flags(HAS_UNLOCK_ROW)?);
    let (reset_completed, unlock_completed, unrecognised_failure) = (
        flags(RESET_COMPLETED)?,
        flags(UNLOCK_COMPLETED)?,
        flags(UNRECOGNISED_FAILURE)?,
    );
    let (started, ended) = (times(STARTED)?, times(ENDED)?);
    let (reset_row_succeeded, flow_succeeded) =
        (times(RESET_ROW_SUCCEEDED)?, times(FLOW_SUCCEEDED)?);
    let ordered = |name: &str| OrderedColumns::of(frame, name);
    let (client_types, user_agents) = (ordered(CLIENT_TYPE)?, ordered(USER_AGENT)?);
    let (users, ip_addresses) = (ordered(USER)?, ordered(IP_ADDRESS)?);
    let (steps, endings) = (texts(FURTHEST_STEP)?, ordered(LAST_ENDING)?);

    let time = |nanos: Option<i64>| nanos.map(DateTime::from_timestamp_nanos);
    let (mut keys, mut admin, mut rows) = (keys.iter(), admin.iter(), rows.iter());
    let (mut admin_sources, mut initiators) = (admin_sources.iter(), initiators.iter());
    let (mut has_reset_row, mut has_unlock_row) = (has_reset_row.iter(), has_unlock_row.iter());
    let (mut reset_completed, mut unlock_completed, mut unrecognised_failure) = (
        reset_completed.iter(),
        unlock_completed.iter(),
        unrecognised_failure.iter(),
    );
    let (mut started, mut ended) = (started.iter(), ended.iter());
    let (mut reset_row_succeeded, mut flow_succeeded) =
        (reset_row_succeeded.iter(), flow_succeeded.iter());
    let (mut client_types, mut user_agents) = (client_types.iter(), user_agents.iter());
    let (mut users, mut ip_addresses) = (users.iter(), ip_addresses.iter());
    let (mut steps, mut endings) = (steps.iter(), endings.iter());
    for _ in 0..frame.height() {
        let furthest_step = match next(&mut steps) {
            Some(name) => Some(
                FunnelStep::from_name(name)
                    .ok_or_else(|| polars_err!(ComputeError: "no funnel step `{name}`"))?,
            ),
            None => None,
        };
        let last_ending = match next(&mut endings) {
            Some((order, name)) => Some((
                order,
                FinalState::from_name(name)
                    .ok_or_else(|| polars_err!(ComputeError: "no final state `{name}`"))?,
            )),
            None => None,
        };
        let admin_source = match next(&mut admin_sources) {
            Some(name) => Some(
                AdminSource::from_name(name)
                    .ok_or_else(|| polars_err!(ComputeError: "no helpdesk source `{name}`"))?,
            ),
            None => None,
        };
        each(AttemptPart {
            key: next(&mut keys).unwrap_or_default(),
            admin: next(&mut admin).unwrap_or_default(),
            admin_source,
            initiator: next(&mut initiators),
            rows: next(&mut rows).unwrap_or_default(),
            has_reset_row: next(&mut has_reset_row).unwrap_or_default(),
            has_unlock_row: next(&mut has_unlock_row).unwrap_or_default(),
            reset_completed: next(&mut reset_completed).unwrap_or_default(),
            unlock_completed: next(&mut unlock_completed).unwrap_or_default(),
            reset_row_succeeded: time(next(&mut reset_row_succeeded)),
            flow_succeeded: time(next(&mut flow_succeeded)),
            started: time(next(&mut started)),
            ended: time(next(&mut ended)),
            client_type: next(&mut client_types),
            user_agent: next(&mut user_agents),
            user: next(&mut users),
            ip_address: next(&mut ip_addresses),
            furthest_step,
            last_ending,
            unrecognised_failure: next(&mut unrecognised_failure).unwrap_or_default(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

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
            admin_source: None,
            initiator: None,
            rows: 4,
            has_reset_row: true,
            has_unlock_row: false,
            reset_completed: false,
            unlock_completed: false,
            reset_row_succeeded: at(8),
            flow_succeeded: None,
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
            admin_source: Some(AdminSource::OtherTool),
            initiator: Some("Helpdesk Tool"),
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
        let mut parts = Vec::new();
        for_each_part(&frame, |part| parts.push(part)).unwrap();
        assert_eq!(parts, [reset, admin]);
    }

    #[test]
    fn a_table_of_another_shape_is_an_error() {
        let frame = parts_frame(std::iter::empty()).unwrap();
        assert!(is_parts_table(&frame).unwrap());
        let without_ties = frame.drop("user_tie").unwrap();
        assert!(!is_parts_table(&without_ties).unwrap());
        assert!(for_each_part(&without_ties, drop).is_err());
        let mut renamed = frame.clone();
        renamed.rename("rows", "row_count".into()).unwrap();
        assert!(!is_parts_table(&renamed).unwrap());
    }
}
