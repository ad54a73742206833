//! The three reach reports as tables: `devices` (one row per Windows device), `summary` (the
//! measures, and with audit data the weekly sign-in-screen resets beside the ready devices) and
//! `blockers` (per breaking setting, the policies that set it and whom they reach).

use polars::prelude::*;

use crate::model::reach::Blocker;
use crate::transformer::reach::{Assessment, summary};

/// The SQL of the weekly sign-in-screen resets (over the audit tables).
pub const ADOPTION_SQL: &str = include_str!("../../queries/reach_adoption.sql");

fn texts<'a>(name: &str, values: impl IntoIterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), values.into_iter().collect::<Vec<_>>())
}

fn joined<T: Copy>(items: &[T], name: impl Fn(T) -> &'static str) -> String {
    let mut names: Vec<&str> = items.iter().map(|item| name(*item)).collect();
    names.sort_unstable();
    names.join(";")
}

/// One row per Windows device, ordered by name.
pub fn devices_frame(assessment: &Assessment) -> PolarsResult<DataFrame> {
    let rows = &assessment.devices;
    let last_sign_in: Vec<Option<String>> = rows
        .iter()
        .map(|row| {
            row.device
                .last_sign_in
                .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        })
        .collect();
    let not_eligible: Vec<String> = rows
        .iter()
        .map(|row| joined(&row.ineligible, |r| r.name()))
        .collect();
    let blockers: Vec<String> = rows
        .iter()
        .map(|row| joined(&row.blockers, Blocker::name))
        .collect();
    DataFrame::new_infer_height(vec![
        texts("name", rows.iter().map(|row| row.device.name.as_deref())),
        texts(
            "device_id",
            rows.iter().map(|row| row.device.device_id.as_deref()),
        ),
        texts(
            "os_version",
            rows.iter().map(|row| row.device.os_version.as_deref()),
        ),
        texts(
            "join_type",
            rows.iter().map(|row| row.device.trust_type.as_deref()),
        ),
        Column::new("last_sign_in".into(), last_sign_in),
        Column::new(
            "eligible".into(),
            rows.iter().map(|row| row.eligible()).collect::<Vec<_>>(),
        ),
        Column::new("not_eligible".into(), not_eligible),
        texts(
            "policy_state",
            rows.iter().map(|row| Some(row.state.name())),
        ),
        texts(
            "status_source",
            rows.iter()
                .map(|row| Some(row.status_source.map_or("none", |source| source.name()))),
        ),
        Column::new("blockers".into(), blockers),
        Column::new(
            "ready".into(),
            rows.iter().map(|row| row.ready()).collect::<Vec<_>>(),
        ),
        texts(
            "intune_device_id",
            rows.iter().map(|row| row.intune_device_id.as_deref()),
        ),
    ])
}

/// `measure`, `devices`; with `adoption` (the result of [`ADOPTION_SQL`]) one more row per
/// week, measure `login_screen_resets`, `devices` the ready devices, and the columns `week`,
/// `login_screen_resets` and `resets_per_100_ready`.
pub fn summary_frame(
    assessment: &Assessment,
    adoption: Option<&DataFrame>,
) -> PolarsResult<DataFrame> {
    let measures = summary(assessment);
    let ready = measures
        .iter()
        .find(|(measure, _)| *measure == "ready")
        .map_or(0, |(_, devices)| *devices);
    let mut names: Vec<&str> = measures.iter().map(|(measure, _)| *measure).collect();
    let mut devices: Vec<u64> = measures.iter().map(|(_, devices)| *devices).collect();
    let Some(adoption) = adoption else {
        return DataFrame::new_infer_height(vec![
            Column::new("measure".into(), names),
            Column::new("devices".into(), devices),
        ]);
    };
    let weeks = adoption.column("week")?.cast(&DataType::String)?;
    let resets = adoption
        .column("login_screen_resets")?
        .cast(&DataType::UInt64)?;
    let mut week_column: Vec<Option<String>> = vec![None; names.len()];
    let mut reset_column: Vec<Option<u64>> = vec![None; names.len()];
    let mut rate_column: Vec<Option<f64>> = vec![None; names.len()];
    for (week, count) in weeks.str()?.iter().zip(resets.u64()?.iter()) {
        names.push("login_screen_resets");
        devices.push(ready);
        week_column.push(week.map(str::to_owned));
        reset_column.push(count);
        rate_column.push(
            count
                .filter(|_| ready > 0)
                .map(|count| count as f64 * 100.0 / ready as f64),
        );
    }
    DataFrame::new_infer_height(vec![
        Column::new("measure".into(), names),
        Column::new("devices".into(), devices),
        Column::new("week".into(), week_column),
        Column::new("login_screen_resets".into(), reset_column),
        Column::new("resets_per_100_ready".into(), rate_column),
    ])
}

/// Per breaking setting (every one of Microsoft's list, set or not), each policy that sets it:
/// `blocker`, `policy`, `policy_id`, `policy_type`, `status` (`read`, `status unknown`, or
/// `not set` when no policy sets it) and `eligible_devices` it is applied on.
pub fn blockers_frame(assessment: &Assessment) -> PolarsResult<DataFrame> {
    let (mut blocker, mut policy, mut policy_id, mut policy_type, mut status, mut reached) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for setting in Blocker::ALL {
        let rows: Vec<_> = assessment
            .blockers
            .iter()
            .filter(|row| row.blocker == setting)
            .collect();
        if rows.is_empty() {
            blocker.push(setting.name());
            policy.push(None);
            policy_id.push(None);
            policy_type.push(None);
            status.push("not set");
            reached.push(0u64);
        }
        for row in rows {
            blocker.push(setting.name());
            policy.push(Some(row.policy.name.as_str()));
            policy_id.push(Some(row.policy.id.as_str()));
            policy_type.push(Some(row.policy.kind.name()));
            status.push(if row.status_readable {
                "read"
            } else {
                "status unknown"
            });
            reached.push(row.eligible_devices);
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("blocker".into(), blocker),
        Column::new("policy".into(), policy),
        Column::new("policy_id".into(), policy_id),
        Column::new("policy_type".into(), policy_type),
        Column::new("status".into(), status),
        Column::new("eligible_devices".into(), reached),
    ])
}
