//! The command line, as clap types; their doc comments are the `--help` text. Nothing here is
//! validated beyond its syntax: `config` does that.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::reporter::Rendering;
use crate::reporter::params::{
    DEFAULT_CURRENCY, DEFAULT_IP_USERS, DEFAULT_REPEAT_RESETS, DEFAULT_TIME_ZONE,
    DEFAULT_UNKNOWN_WARNING, DEFAULT_WORKING_DAYS, DEFAULT_WORKING_HOURS,
};
use crate::transformer::calendar::PeriodUnit;

/// Measure Entra ID self-service password reset by channel: Windows login screen, web, other,
/// and the helpdesk resets it replaces.
#[derive(Debug, Parser)]
#[command(name = "ssprlens", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print only errors on standard error (no progress, no summary).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Diagnostics on standard error as text lines or as JSON objects (for log collectors).
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report on exported Entra audit logs or on the history store.
    Report(ReportArgs),
    /// Fetch SSPR audit events from Microsoft Graph into the history store, incrementally.
    Fetch(FetchArgs),
    /// Add exported audit logs (any shape `report --input` reads) to the history store.
    Import(ImportArgs),
    /// The scheduled job: fetch, then write every report into --out DIR.
    Run(Box<RunArgs>),
    /// Merge each day's batches in the history store into one (raw, parts and events files),
    /// each record once: reports from the store read fewer, larger files. `import`, `fetch` and
    /// `run` do this by themselves for the days they wrote into.
    Compact(CompactArgs),
    /// See everything work without a tenant: a built-in Graph (or Log Analytics) simulator on
    /// 127.0.0.1, seeded with the sample tenant, fetched into a store and reported on. Simulated data.
    Demo(DemoArgs),
    /// Print the built-in channel rules: the start of a rules file of your own.
    Rules,
    /// Print a shell completion script, e.g. `ssprlens completions bash >
    /// /etc/bash_completion.d/ssprlens`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `ssprlens manpage > /usr/local/share/man/man1/ssprlens.1`.
    Manpage,
    /// Learn your tenant's ClientType values from test resets you made and labelled: writes a
    /// rules file that puts each in its channel (see README, "Can I trust these numbers?").
    Calibrate(CalibrateArgs),
    /// Compare our daily counts with Microsoft's own (Graph's userPasswordResetsAndChangesSummary).
    Reconcile(Box<ReconcileArgs>),
    /// Which Windows devices can show "Reset password" on the sign-in screen, which cannot and
    /// why: Entra devices, Intune devices and policies, read-only from Graph.
    Reach(Box<ReachArgs>),
    /// Publish the store to a data lake as Delta tables (`events`, `attempts`, partitioned by
    /// tenant and day) that Fabric, Databricks, Synapse and DuckDB read; only changed days are
    /// written.
    #[cfg(feature = "lake")]
    Publish(Box<PublishArgs>),
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub graph: GraphArgs,

    /// Channel rules (TOML) whose `[reset_service]` section tells the reset service's own Core
    /// Directory resets from helpdesk tools' [default: the built-in].
    #[arg(long, value_name = "FILE")]
    pub channels: Option<PathBuf>,

    /// Output format [default: from the --out extension, else table].
    #[arg(long, short, value_enum)]
    pub format: Option<Rendering>,

    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Exit with code 4 when a day is `check` (the numbers differ beyond the tolerance).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// The test account whose password you reset (its user principal name).
    #[arg(long, value_name = "UPN")]
    pub user: String,

    /// When you began the reset at the Windows sign-in screen: RFC 3339 or YYYY-MM-DDTHH:MM
    /// (UTC). The user's reset attempt that began nearest to it, within 30 minutes, is labelled.
    #[arg(long, value_name = "TIME")]
    pub login_screen: String,

    /// When you began the reset on the web (same forms).
    #[arg(long, value_name = "TIME")]
    pub web: Option<String>,

    /// When you began a reset of another kind, such as a mobile app (same forms).
    #[arg(long, value_name = "TIME")]
    pub other: Option<String>,

    /// The rules that classify everything else, after the learnt ones [default: the built-in].
    #[arg(long, value_name = "FILE")]
    pub channels: Option<PathBuf>,

    /// Write the rules file here (atomically); without it, print the rules file.
    #[arg(long, short, value_name = "RULES.toml")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SourceArgs {
    /// An export file, or a directory: every .json, .ndjson, .jsonl and .gz file under it.
    /// Repeat for more inputs. The format is detected from the content.
    #[arg(long, short, num_args = 1.., value_name = "PATH")]
    pub input: Vec<PathBuf>,

    /// Read the history store written by `ssprlens fetch`.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// The built-in report to run: channels, client_types, unlocks, funnel, trend, ips, users,
    /// helpdesk, helpdesk_rollout, summary, activities. (`--format html` shows them all on one
    /// page, but `activities`.)
    #[arg(long, short, value_name = "NAME", default_value = "channels")]
    pub report: String,

    /// Run your own SQL over the `events`, `attempts`, `channel_order`, `calendar` and `params`
    /// tables (and the built-in reports, each a table named after it) instead.
    #[arg(long, value_name = "FILE.sql", conflicts_with = "report")]
    pub query: Option<PathBuf>,

    /// Write every built-in report into the directory --out, one file each named after the
    /// report (channels.csv, funnel.csv, ...; report.html for --format html), atomically.
    #[arg(long, requires = "out", conflicts_with_all = ["report", "query"])]
    pub all: bool,

    /// Output format [default: from the --out extension, else table; csv with --all].
    #[arg(long, short, value_enum)]
    pub format: Option<Rendering>,

    /// Write to this file (atomically) instead of standard output; with --all, the directory.
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub selection: SelectionArgs,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    #[command(flatten)]
    pub privacy: PrivacyArgs,

    /// Append every rejected line or record here, verbatim (raw input: never pseudonymised).
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,

    /// Fail (exit code 4, nothing written) when any input is rejected.
    #[arg(long)]
    pub strict: bool,
}

/// Which attempts a report covers and how they are classified.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Channel rules (TOML) replacing the built-in ones; see `ssprlens rules`.
    #[arg(long, value_name = "FILE")]
    pub channels: Option<PathBuf>,

    /// Only attempts that began at or after this time: RFC 3339, a date (YYYY-MM-DD, UTC), or an
    /// age such as 7d, 12h, 30m, 2w.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only attempts that began at or before this time (same forms; a date means its whole day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// How the built-in reports count: periods, time zone, rollout date, costs and thresholds.
#[derive(Debug, Clone, Args)]
pub struct AnalysisArgs {
    /// The period of `trend` and `helpdesk`: day, week (from Monday) or month.
    #[arg(long, value_enum, default_value = "week")]
    pub by: PeriodUnit,

    /// The time zone (IANA name, such as Europe/Berlin) of days and periods.
    #[arg(long, value_name = "ZONE", default_value = DEFAULT_TIME_ZONE)]
    pub tz: String,

    /// The day the login-screen reset link was rolled out (YYYY-MM-DD, a day of --tz):
    /// `helpdesk` and `helpdesk_rollout` compare the weeks before it with those after it.
    #[arg(long, value_name = "DATE")]
    pub rollout_date: Option<String>,

    /// The share (0 to 1) of completed self-service resets that would otherwise have been a
    /// helpdesk call [default: 1, every one: an upper bound].
    #[arg(long, value_name = "SHARE")]
    pub deflection: Option<f64>,

    /// The cost of one helpdesk password reset [default: 60, Microsoft's account-recovery cost
    /// estimator; Forrester's often-quoted figure is about 70 per call].
    #[arg(long, value_name = "AMOUNT")]
    pub cost_helpdesk: Option<f64>,

    /// The cost of one self-service password reset [default: 2, Microsoft's estimator].
    #[arg(long, value_name = "AMOUNT")]
    pub cost_self_service: Option<f64>,

    /// The currency of the costs.
    #[arg(long, value_name = "CODE", default_value = DEFAULT_CURRENCY)]
    pub currency: String,

    /// Flag an IP address used by at least N distinct users (`ips`).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_IP_USERS)]
    pub ip_users: u32,

    /// Flag a user completing at least N resets within 24 hours (`users`).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_REPEAT_RESETS)]
    pub repeat_resets: u32,

    /// Working hours, local time (`users`: attempts outside them are after hours).
    #[arg(long, value_name = "HH:MM-HH:MM", default_value = DEFAULT_WORKING_HOURS)]
    pub working_hours: String,

    /// Working days: a range such as mon-fri or sun-thu, or a list such as mon,tue,thu.
    #[arg(long, value_name = "DAYS", default_value = DEFAULT_WORKING_DAYS)]
    pub working_days: String,

    /// The time zone of the working hours [default: --tz].
    #[arg(long, value_name = "ZONE")]
    pub working_tz: Option<String>,

    /// Warn when more than this share (0 to 1) of self-service reset attempts land in channel
    /// `unknown`: the channel rules do not fit the data (see `ssprlens calibrate`).
    #[arg(long, value_name = "SHARE", default_value_t = DEFAULT_UNKNOWN_WARNING)]
    pub unknown_warning: f64,
}

impl Default for AnalysisArgs {
    /// The defaults of the command line.
    fn default() -> Self {
        AnalysisArgs {
            by: PeriodUnit::Week,
            tz: DEFAULT_TIME_ZONE.to_owned(),
            rollout_date: None,
            deflection: None,
            cost_helpdesk: None,
            cost_self_service: None,
            currency: DEFAULT_CURRENCY.to_owned(),
            ip_users: DEFAULT_IP_USERS,
            repeat_resets: DEFAULT_REPEAT_RESETS,
            working_hours: DEFAULT_WORKING_HOURS.to_owned(),
            working_days: DEFAULT_WORKING_DAYS.to_owned(),
            unknown_warning: DEFAULT_UNKNOWN_WARNING,
            working_tz: None,
        }
    }
}

/// Who may see whom: pseudonyms instead of people and addresses.
#[derive(Debug, Clone, Default, Args)]
pub struct PrivacyArgs {
    /// Replace user names, user ids and IP addresses in every report with keyed pseudonyms
    /// (HMAC-SHA256; the same under the same key, so runs still join). The key comes from the
    /// SSPRLENS_PSEUDONYM_KEY variable or --pseudonym-key-file; there is no default key.
    #[arg(long)]
    pub pseudonymize: bool,

    /// A file holding the pseudonym key (at least 16 bytes; outer white space ignored).
    #[arg(long, value_name = "FILE", requires = "pseudonymize")]
    pub pseudonym_key_file: Option<PathBuf>,

    /// With --pseudonymize: keep IP networks (/24, /48) readable for the subnet reports.
    #[arg(long, requires = "pseudonymize")]
    pub keep_networks: bool,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The history store [default: ssprlens under the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    #[command(flatten)]
    pub graph: GraphArgs,

    #[command(flatten)]
    pub log_analytics: LogAnalyticsArgs,

    /// Fetch from this time (RFC 3339, a date, or an age such as 7d) [default: the source's
    /// watermark minus --overlap, or for a new source 30 days ago from Graph, 90 days ago from
    /// Log Analytics].
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Fetch up to this time [default: now].
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Re-read this much before the watermark, for events Entra logs late.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub overlap: String,

    /// Append records Graph returned that could not be read here, verbatim.
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,

    /// Leave the days written into as they are, one batch more each, instead of compacting
    /// them (`ssprlens compact` does it later).
    #[arg(long)]
    pub no_compact: bool,
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// The history store [default: ssprlens under the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Compact from this day on (a date, RFC 3339 or an age such as 7d; its UTC day)
    /// [default: the first day stored].
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Compact up to this day (as --since) [default: the last day stored].
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// The audit log's Graph options: the connection, and what to fetch how politely.
#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// A loggedByService value to fetch (repeatable; replaces the list) [default: `Self-service
    /// Password Management` and `Authentication Methods`]. Core Directory `Reset user password`
    /// rows (helpdesk resets of other tools) are fetched too, over the same window.
    #[arg(long, value_name = "NAME")]
    pub service: Vec<String>,

    /// Records per page ($top).
    #[arg(long, value_name = "N", default_value_t = 999)]
    pub page_size: u32,

    /// Client-side rate limit, N requests per DURATION [default: 5/10s for Graph, which allows
    /// 5 per 10 s per app and tenant; 1/1s for Log Analytics, which allows 200 per 30 s].
    #[arg(long, value_name = "N/DURATION")]
    pub throttle: Option<String>,
}

/// Where Graph is, how to sign in, and how long to keep trying.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Microsoft Graph's base URL (sovereign clouds, proxies; http only for loopback).
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://graph.microsoft.com"
    )]
    pub graph_url: String,

    #[command(flatten)]
    pub sign_in: SignInArgs,

    /// The longest a run may lose to failures (failed tries, throttling and the waits before
    /// retries) before it gives up.
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub retry_budget: String,

    /// Timeout of one HTTP request.
    #[arg(long, value_name = "DURATION", default_value = "100s")]
    pub timeout: String,

    /// Trust this PEM root certificate too (a corporate TLS-inspecting proxy).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// How to sign in to Entra: the same credentials serve Graph, Log Analytics and storage.
#[derive(Debug, Args)]
pub struct SignInArgs {
    /// Entra's sign-in endpoint.
    #[arg(
        long,
        value_name = "URL",
        env = "AZURE_AUTHORITY_HOST",
        default_value = "https://login.microsoftonline.com"
    )]
    pub authority_host: String,

    /// The tenant (directory) id.
    #[arg(long, value_name = "ID", env = "AZURE_TENANT_ID")]
    pub tenant_id: Option<String>,

    /// The app registration's client id (or a user-assigned managed identity's).
    #[arg(long, value_name = "ID", env = "AZURE_CLIENT_ID")]
    pub client_id: Option<String>,

    /// A file holding the client secret [default: the AZURE_CLIENT_SECRET variable]. Never give
    /// a secret on the command line.
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,

    /// A PKCS#12 certificate with its private key; its password, if any, in
    /// AZURE_CLIENT_CERTIFICATE_PASSWORD.
    #[arg(long, value_name = "FILE", env = "AZURE_CLIENT_CERTIFICATE_PATH")]
    pub certificate: Option<PathBuf>,

    /// Sign in as the machine's managed identity (user-assigned with --client-id).
    #[arg(long)]
    pub managed_identity: bool,

    /// Sign in as the account of `az login`.
    #[arg(long, conflicts_with = "managed_identity")]
    pub azure_cli: bool,
}

/// Where `fetch` reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FetchSource {
    /// Microsoft Graph's directoryAudits (30 days of history).
    Graph,
    /// The AuditLogs table of a Log Analytics workspace (Microsoft Sentinel's, or any workspace
    /// Entra's diagnostic settings send audit logs to): months of history.
    LogAnalytics,
}

/// The Log Analytics side of `fetch`.
#[derive(Debug, Args)]
pub struct LogAnalyticsArgs {
    /// Read from Graph or from a Log Analytics workspace.
    #[arg(long, value_enum, default_value = "graph")]
    pub source: FetchSource,

    /// The Log Analytics workspace id (a GUID: the workspace's "Workspace ID", not its resource id).
    #[arg(long, value_name = "GUID")]
    pub workspace: Option<String>,

    /// The Azure Monitor Logs query API (US Gov: https://api.loganalytics.us, China:
    /// https://api.loganalytics.azure.cn; http only for loopback).
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://api.loganalytics.azure.com"
    )]
    pub logs_url: String,

    /// Print the KQL query of the first window and exit (no sign-in, nothing fetched).
    #[arg(long)]
    pub print_query: bool,
}

/// Which storage account an `az://` location is in.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The storage account of `az://CONTAINER/PREFIX` locations.
    #[arg(long, value_name = "NAME", env = "AZURE_STORAGE_ACCOUNT_NAME")]
    pub storage_account: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The history store [default: ssprlens under the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// An export file, a directory of them, or a storage-account archive location:
    /// az://CONTAINER/PREFIX or https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX
    /// (repeatable).
    #[arg(long, short, required = true, num_args = 1.., value_name = "PATH|URL")]
    pub input: Vec<String>,

    /// Append every rejected line or record here, verbatim.
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,

    #[command(flatten)]
    pub archive: ArchiveArgs,

    #[command(flatten)]
    pub sign_in: SignInArgs,

    /// Timeout of one storage request.
    #[arg(long, value_name = "DURATION", default_value = "100s")]
    pub timeout: String,

    /// Leave the days written into as they are, one batch more each, instead of compacting
    /// them (`ssprlens compact` does it later).
    #[arg(long)]
    pub no_compact: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub fetch: FetchArgs,

    /// Also import this storage-account archive location (az://CONTAINER/PREFIX or
    /// https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX) before reporting (repeatable).
    #[arg(long, value_name = "URL")]
    pub archive: Vec<String>,

    #[command(flatten)]
    pub archive_access: ArchiveArgs,

    /// The directory to write every report into (one file per report, written atomically).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Format of the report files.
    #[arg(long, short, value_enum, default_value = "csv")]
    pub format: Rendering,

    /// Then publish the store to this lake location (see `publish --to`; its account from
    /// --storage-account under az://).
    #[cfg(feature = "lake")]
    #[arg(long, value_name = "URL")]
    pub publish: Option<String>,

    /// Channel rules (TOML) replacing the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub channels: Option<PathBuf>,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    #[command(flatten)]
    pub privacy: PrivacyArgs,
}

#[cfg(feature = "lake")]
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The history store [default: ssprlens under the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Where the tables go (their folders `events/` and `attempts/` under PATH):
    /// az://CONTAINER/PATH, abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH or
    /// https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH.
    #[arg(long, value_name = "URL")]
    pub to: String,

    #[command(flatten)]
    pub storage: ArchiveArgs,

    /// With a store that records no tenant: the tenant its events are of. Also the tenant
    /// signed in to for storage (with a client secret, certificate or workload identity).
    #[command(flatten)]
    pub sign_in: SignInArgs,

    /// Channel rules (TOML) replacing the built-in ones: the `channel` of the attempts table.
    #[arg(long, value_name = "FILE")]
    pub channels: Option<PathBuf>,

    #[command(flatten)]
    pub privacy: PrivacyArgs,

    /// Timeout of one storage request.
    #[arg(long, value_name = "DURATION", default_value = "100s")]
    pub timeout: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's store here [default: a temporary directory, removed afterwards].
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Also write every report into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Fetch from the simulated Graph or from the simulated Log Analytics workspace.
    #[arg(long, value_enum, default_value = "graph")]
    pub source: FetchSource,
}

/// The reach reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReachReport {
    /// One row per Windows device: eligibility, policy state, blockers, ready.
    Devices,
    /// The counts: Windows devices, eligible, ready, and each reason a device is not ready.
    Summary,
    /// Per breaking setting, the policies that set it and the eligible devices they reach.
    Blockers,
}

#[derive(Debug, Args)]
pub struct ReachArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Client-side rate limit, N requests per DURATION (Intune allows 1,000 per 20 s per app and
    /// tenant for device configurations; this leaves room for the tenant's other tools).
    #[arg(long, value_name = "N/DURATION", default_value = "200/20s")]
    pub throttle: String,

    /// Devices per page ($top) of the device lists.
    #[arg(long, value_name = "N", default_value_t = 999)]
    pub page_size: u32,

    /// The report to write.
    #[arg(long, short, value_enum, default_value = "summary")]
    pub report: ReachReport,

    /// Write all three reports into the directory --out (devices.csv, summary.csv,
    /// blockers.csv, or the extension of --format), atomically.
    #[arg(long, requires = "out", conflicts_with = "report")]
    pub all: bool,

    /// Output format [default: from the --out extension, else table; csv with --all].
    #[arg(long, short, value_enum)]
    pub format: Option<Rendering>,

    /// Write to this file (atomically) instead of standard output; with --all, the directory.
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// A device counts as active when it signed in within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub active_days: u32,

    /// Audit exports (as `report --input`): the summary adds completed sign-in-screen resets
    /// per week beside the ready devices.
    #[arg(long, short, num_args = 1.., value_name = "PATH", conflicts_with = "store")]
    pub input: Vec<PathBuf>,

    /// The history store (as `report --store`), for the same weekly resets.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// The zone (IANA name) of the weeks of the resets.
    #[arg(long, value_name = "ZONE", default_value = DEFAULT_TIME_ZONE)]
    pub tz: String,
}
