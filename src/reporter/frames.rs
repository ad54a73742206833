//! Builds the tables the SQL reports query besides `events` (see [`crate::columns`]):
//! `attempts` and `channel_order`.

use polars::prelude::*;

use crate::columns::{text, times};
use crate::model::Attempt;

/// One row per attempt.
pub fn attempts_frame(attempts: &[Attempt]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        text("attempt_id", attempts.iter().map(|a| Some(a.id.as_str()))),
        text("kind", attempts.iter().map(|a| Some(a.kind.as_str()))),
        text("channel", attempts.iter().map(|a| Some(a.channel.as_str()))),
        text(
            "client_type",
            attempts.iter().map(|a| a.client_type.as_deref()),
        ),
        text(
            "user_agent",
            attempts.iter().map(|a| a.user_agent.as_deref()),
        ),
        Column::new(
            "completed".into(),
            attempts.iter().map(|a| a.completed).collect::<Vec<_>>(),
        ),
        times("started", attempts.iter().map(|a| a.started))?,
        times("ended", attempts.iter().map(|a| a.ended))?,
        text("user", attempts.iter().map(|a| a.user.as_deref())),
        text(
            "ip_address",
            attempts.iter().map(|a| a.ip_address.as_deref()),
        ),
        Column::new(
            "rows".into(),
            attempts.iter().map(|a| a.rows).collect::<Vec<_>>(),
        ),
    ])
}

/// The channels in report order (`position` 1, 2, ...): rule order, then `unknown`, then `admin`.
pub fn channel_order_frame(channels: &[&str]) -> PolarsResult<DataFrame> {
    let positions: Vec<u32> = (1..=channels.len() as u32).collect();
    DataFrame::new_infer_height(vec![
        text("channel", channels.iter().map(|c| Some(*c))),
        Column::new("position".into(), positions),
    ])
}
