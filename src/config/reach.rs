//! `ssprlens reach` arguments → a validated configuration: the Graph connection, Intune's
//! request rate, which report in which format where, what counts as active, and the audit data
//! (if any) whose weekly sign-in-screen resets the summary shows.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::{GraphConnection, ReportSettings, Source};
use crate::cli::{AnalysisArgs, PrivacyArgs, ReachArgs, ReachReport};
use crate::error::Error;
use crate::fetcher::graph::throttle::RateLimit;
use crate::reporter::Rendering;
use crate::reporter::export::Format;

/// Intune's request rate when --throttle is not given: the argument's own default.
const INTUNE_RATE: RateLimit = RateLimit {
    requests: 200,
    window: std::time::Duration::from_secs(20),
};

/// A reach run, validated.
#[derive(Debug, Clone)]
pub struct ReachConfig {
    pub connection: GraphConnection,
    pub throttle: RateLimit,
    pub page_size: u32,
    pub report: ReachReport,
    /// All three reports into the directory `out`.
    pub all: bool,
    pub format: Format,
    pub out: Option<PathBuf>,
    pub active_days: u32,
    /// Audit data for the weekly resets beside the ready devices.
    pub audit: Option<Source>,
    /// The weeks (and time zone) of those resets.
    pub settings: ReportSettings,
    pub now: DateTime<Utc>,
}

impl ReachConfig {
    pub fn from_args(args: ReachArgs, now: DateTime<Utc>) -> Result<Self, Error> {
        let connection =
            GraphConnection::graph(&args.connection, Some(&args.throttle), INTUNE_RATE)?;
        let throttle = connection.throttle;
        if args.page_size == 0 {
            return Err(Error::Usage("--page-size must be at least 1".into()));
        }
        if args.active_days == 0 {
            return Err(Error::Usage("--active-days must be at least 1".into()));
        }
        let rendering = Rendering::chosen(args.format, args.all, args.out.as_deref());
        let Rendering::Table(format) = rendering else {
            return Err(Error::Usage(
                "--format html is the audit reports' page; reach writes table, csv, json, markdown or parquet".into(),
            ));
        };
        let audit = match (args.store, args.input) {
            (Some(dir), _) => Some(Source::Store(dir)),
            (None, inputs) if !inputs.is_empty() => Some(Source::Files(inputs)),
            (None, _) => None,
        };
        let analysis = AnalysisArgs {
            tz: args.tz,
            ..AnalysisArgs::default()
        };
        Ok(ReachConfig {
            connection,
            throttle,
            page_size: args.page_size,
            report: args.report,
            all: args.all,
            format,
            out: args.out,
            active_days: args.active_days,
            audit,
            settings: ReportSettings::from_args(&analysis, &PrivacyArgs::default())?,
            now,
        })
    }
}
