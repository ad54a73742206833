//! The `attempts` table: one row per attempt, built by [`AttemptColumns`] one attempt at a time,
//! or from a parts table: the columns an attempt takes unchanged from its part ([`TakenColumns`])
//! beside those decided for it ([`DecidedColumns`]).

use polars::prelude::*;

use super::{nanos_of, utc_times};
use crate::model::{AdminSource, Attempt, AttemptView, FinalState, FunnelStep};

/// The columns of the `attempts` table, in order.
pub mod attempt_columns {
    pub const ID: &str = "attempt_id";
    pub const KIND: &str = "kind";
    pub const CHANNEL: &str = "channel";
    pub const CLIENT_TYPE: &str = "client_type";
    pub const USER_AGENT: &str = "user_agent";
    pub const COMPLETED: &str = "completed";
    pub const STARTED: &str = "started";
    pub const ENDED: &str = "ended";
    pub const USER: &str = "user";
    pub const IP_ADDRESS: &str = "ip_address";
    pub const ROWS: &str = "rows";
    pub const FURTHEST_STEP: &str = "furthest_step";
    pub const FINAL_STATE: &str = "final_state";
    pub const IP_NETWORK: &str = "ip_network";
    pub const COMPLETED_AT: &str = "completed_at";
    pub const ADMIN_SOURCE: &str = "admin_source";
    pub const NEW_IP_FOR_USER: &str = "new_ip_for_user";
    pub const DAY: &str = "day";
    pub const PERIOD: &str = "period";
    pub const AFTER_HOURS: &str = "after_hours";
}

/// The columns of the `attempts` table an attempt takes unchanged from its part (see
/// [`crate::columns::taken_columns`]), or [`AttemptColumns`] copies from its view.
pub struct TakenColumns {
    pub id: Column,
    pub client_type: Column,
    pub user_agent: Column,
    pub user: Column,
    pub started: Column,
    pub ended: Column,
    pub rows: Column,
}

/// The columns of the `attempts` table decided for each attempt: its kind, channel and
/// completion, its address in canonical form and network, its furthest step and final state.
pub struct DecidedColumns {
    kind: StringChunkedBuilder,
    channel: StringChunkedBuilder,
    completed: BooleanChunkedBuilder,
    ip_address: StringChunkedBuilder,
    furthest_step: StringChunkedBuilder,
    final_state: StringChunkedBuilder,
    ip_network: StringChunkedBuilder,
    completed_at: PrimitiveChunkedBuilder<Int64Type>,
    admin_source: StringChunkedBuilder,
}

impl DecidedColumns {
    pub fn with_capacity(capacity: usize) -> Self {
        use attempt_columns::*;
        let text = |name: &str| StringChunkedBuilder::new(name.into(), capacity);
        DecidedColumns {
            kind: text(KIND),
            channel: text(CHANNEL),
            completed: BooleanChunkedBuilder::new(COMPLETED.into(), capacity),
            ip_address: text(IP_ADDRESS),
            furthest_step: text(FURTHEST_STEP),
            final_state: text(FINAL_STATE),
            ip_network: text(IP_NETWORK),
            completed_at: PrimitiveChunkedBuilder::new(COMPLETED_AT.into(), capacity),
            admin_source: text(ADMIN_SOURCE),
        }
    }

    pub fn push(&mut self, attempt: &AttemptView<'_>) {
        self.kind.append_value(attempt.kind.as_str());
        self.channel.append_value(attempt.channel);
        self.completed.append_value(attempt.completed);
        self.ip_address.append_option(attempt.ip_address);
        self.furthest_step
            .append_option(attempt.furthest_step.map(FunnelStep::as_str));
        self.final_state
            .append_option(attempt.final_state.map(FinalState::as_str));
        self.ip_network.append_option(attempt.ip_network);
        self.completed_at
            .append_option(nanos_of(attempt.completed_at));
        self.admin_source
            .append_option(attempt.admin_source.map(AdminSource::as_str));
    }

    /// The table of these and the `taken` columns, which must be as long; `new_ip_for_user` and
    /// the calendar columns start empty.
    pub fn finish(self, taken: TakenColumns) -> PolarsResult<DataFrame> {
        use attempt_columns::*;
        let height = taken.id.len();
        let text = |builder: StringChunkedBuilder| builder.finish().into_column();
        let empty = |name: &str, dtype: DataType| Column::full_null(name.into(), height, &dtype);
        DataFrame::new_infer_height(vec![
            taken.id,
            text(self.kind),
            text(self.channel),
            taken.client_type,
            taken.user_agent,
            self.completed.finish().into_column(),
            taken.started,
            taken.ended,
            taken.user,
            text(self.ip_address),
            taken.rows,
            text(self.furthest_step),
            text(self.final_state),
            text(self.ip_network),
            utc_times(self.completed_at.finish())?,
            text(self.admin_source),
            empty(NEW_IP_FOR_USER, DataType::Boolean),
            empty(DAY, DataType::String),
            empty(PERIOD, DataType::String),
            empty(AFTER_HOURS, DataType::Boolean),
        ])
    }
}

/// Builds the `attempts` table one attempt at a time; `new_ip_for_user` and the calendar
/// columns start empty (see [`AttemptView`]).
pub struct AttemptColumns {
    id: StringChunkedBuilder,
    client_type: StringChunkedBuilder,
    user_agent: StringChunkedBuilder,
    user: StringChunkedBuilder,
    started: PrimitiveChunkedBuilder<Int64Type>,
    ended: PrimitiveChunkedBuilder<Int64Type>,
    rows: PrimitiveChunkedBuilder<UInt32Type>,
    decided: DecidedColumns,
}

impl AttemptColumns {
    pub fn with_capacity(capacity: usize) -> Self {
        use attempt_columns::*;
        let text = |name: &str| StringChunkedBuilder::new(name.into(), capacity);
        let time = |name: &str| PrimitiveChunkedBuilder::new(name.into(), capacity);
        AttemptColumns {
            id: text(ID),
            client_type: text(CLIENT_TYPE),
            user_agent: text(USER_AGENT),
            user: text(USER),
            started: time(STARTED),
            ended: time(ENDED),
            rows: PrimitiveChunkedBuilder::new(ROWS.into(), capacity),
            decided: DecidedColumns::with_capacity(capacity),
        }
    }

    pub fn push(&mut self, attempt: AttemptView<'_>) {
        self.id.append_value(attempt.id);
        self.client_type.append_option(attempt.client_type);
        self.user_agent.append_option(attempt.user_agent);
        self.started.append_option(nanos_of(attempt.started));
        self.ended.append_option(nanos_of(attempt.ended));
        self.user.append_option(attempt.user);
        self.rows.append_value(attempt.rows);
        self.decided.push(&attempt);
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let text = |builder: StringChunkedBuilder| builder.finish().into_column();
        self.decided.finish(TakenColumns {
            id: text(self.id),
            client_type: text(self.client_type),
            user_agent: text(self.user_agent),
            user: text(self.user),
            started: utc_times(self.started.finish())?,
            ended: utc_times(self.ended.finish())?,
            rows: self.rows.finish().into_column(),
        })
    }
}

/// The `attempts` table of `attempts` (what [`AttemptColumns`] takes of them).
pub fn attempts_frame(attempts: &[Attempt]) -> PolarsResult<DataFrame> {
    let mut columns = AttemptColumns::with_capacity(attempts.len());
    for attempt in attempts {
        columns.push(attempt.view());
    }
    columns.finish()
}
