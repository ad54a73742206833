//! Command-line arguments → a validated configuration. Raw arguments stop here: files named by
//! them (rules, queries) are read and checked, times are resolved against the `now` passed in.

use std::path::{Path, PathBuf};

use azure_core::credentials::{Secret, SecretBytes};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use url::Url;

use crate::cli::{
    AnalysisArgs, ArchiveArgs, CalibrateArgs, CompactArgs, ConnectionArgs, FetchArgs, FetchSource,
    ImportArgs, PrivacyArgs, ReconcileArgs, ReportArgs, RunArgs, SelectionArgs, SignInArgs,
};
use crate::columns::attempt_columns;
use crate::error::Error;
use crate::fetcher::files::read_text;
use crate::fetcher::graph::auth::{AuthConfig, AuthMethod};
use crate::fetcher::graph::http::endpoint;
use crate::fetcher::graph::pager::DEFAULT_SERVICES;
use crate::fetcher::graph::retry::RetryPolicy;
use crate::fetcher::graph::throttle::RateLimit;
use crate::fetcher::log_analytics::{LOG_ANALYTICS_RATE, logs_scope};
use crate::reporter::Rendering;
use crate::reporter::params::{
    Assumption, Costs, DEFAULT_COST_HELPDESK, DEFAULT_COST_SELF_SERVICE, DEFAULT_DEFLECTION,
    DEFLECTION_SOURCE, HELPDESK_SOURCE, Parameters, SELF_SERVICE_SOURCE,
};
use crate::reporter::queries::{self, REPORTS, Report};
use crate::storage::{Location, StorageAccess};
use crate::timespec::{DURATION_FORMS, parse_duration, parse_window};
use crate::transformer::calendar::{Calendar, WorkingHours};
use crate::transformer::calibration::Label;
use crate::transformer::pseudonym::Pseudonymizer;
use crate::transformer::rules::ChannelRules;
use crate::transformer::window::Window;

mod reach;

pub use reach::ReachConfig;

/// What to run: a built-in report or the user's SQL.
#[derive(Debug, Clone)]
pub struct Query {
    pub name: String,
    pub sql: String,
    pub total_sql: Option<String>,
    /// A query shown under this one on the terminal and in Markdown, unless it has no rows.
    pub appendix_sql: Option<String>,
    /// The assumptions shown under the table on the terminal and in Markdown.
    pub notes: Vec<String>,
    /// Whether the `events` table must be built: only a user's SQL may read it; the built-in
    /// reports read attempts, which the parallel path builds without keeping events.
    pub needs_events: bool,
    /// Whether the query (or its total or appendix) may read `attempts.new_ip_for_user`.
    pub needs_new_ips: bool,
}

impl Query {
    /// A built-in report, with the notes its parameters call for.
    pub fn builtin(report: &Report, params: &Parameters) -> Self {
        let appendix = report.appendix.and_then(queries::find);
        let reads_new_ips = |report: &Report| report.reads_column(attempt_columns::NEW_IP_FOR_USER);
        Query {
            name: report.name.to_owned(),
            sql: report.sql.to_owned(),
            total_sql: report.total_sql.map(str::to_owned),
            appendix_sql: appendix.map(|appendix| appendix.sql.to_owned()),
            notes: params.notes_for(report.name),
            needs_events: report.reads_events,
            needs_new_ips: reads_new_ips(report) || appendix.is_some_and(reads_new_ips),
        }
    }
}

/// How the built-in reports count: the calendar, the working hours and the parameters; and
/// whether people and addresses are pseudonymised.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub calendar: Calendar,
    pub working_hours: WorkingHours,
    pub params: Parameters,
    pub pseudonyms: Option<Pseudonymizer>,
    /// Whether attempts get their `new_ip_for_user` flags, which take a pass over every
    /// attempt: only when a report to be written may read them.
    pub new_ips: bool,
    /// The share of self-service reset attempts in `unknown` above which a report warns.
    pub unknown_warning: f64,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self::from_args(&AnalysisArgs::default(), &PrivacyArgs::default())
            .expect("the default settings are valid")
    }
}

/// The environment variable holding the pseudonym key.
pub const PSEUDONYM_KEY_VARIABLE: &str = "SSPRLENS_PSEUDONYM_KEY";

/// The pseudonymizer `--pseudonymize` asks for, keyed from `--pseudonym-key-file` or the
/// environment; refused without a key (no guessable default). Errors never show the key.
fn pseudonymizer(privacy: &PrivacyArgs) -> Result<Option<Pseudonymizer>, Error> {
    if !privacy.pseudonymize {
        return Ok(None);
    }
    let key = match &privacy.pseudonym_key_file {
        Some(path) => std::fs::read(path).map_err(|err| {
            Error::Usage(format!(
                "--pseudonym-key-file {}: {err}",
                path.display()
            ))
        })?,
        None => std::env::var_os(PSEUDONYM_KEY_VARIABLE)
            .map(|key| key.into_encoded_bytes())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--pseudonymize needs a key: set {PSEUDONYM_KEY_VARIABLE} or give --pseudonym-key-file \
                     (make one with `openssl rand -hex 32`, and keep it: the same key gives the same pseudonyms)"
                ))
            })?,
    };
    Pseudonymizer::new(key.trim_ascii(), privacy.keep_networks)
        .map(Some)
        .map_err(|err| Error::Usage(format!("--pseudonymize: {err}")))
}

impl ReportSettings {
    pub fn from_args(args: &AnalysisArgs, privacy: &PrivacyArgs) -> Result<Self, Error> {
        let zone = |text: &str, flag: &str| {
            text.trim().parse::<chrono_tz::Tz>().map_err(|_| {
                Error::Usage(format!(
                    "{flag} `{text}` is not an IANA time zone: use a name such as UTC, Europe/Berlin or America/New_York"
                ))
            })
        };
        let calendar = Calendar {
            unit: args.by,
            zone: zone(&args.tz, "--tz")?,
        };
        let working_zone = match &args.working_tz {
            Some(text) => zone(text, "--working-tz")?,
            None => calendar.zone,
        };
        let working_hours =
            WorkingHours::parse(&args.working_hours, &args.working_days, working_zone)
                .map_err(|err| Error::Usage(format!("--working-hours/--working-days: {err}")))?;
        let rollout_date = args
            .rollout_date
            .as_deref()
            .map(|text| {
                NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                    Error::Usage(format!(
                        "--rollout-date `{text}` is not a date: use YYYY-MM-DD"
                    ))
                })
            })
            .transpose()?;
        let amount = |value: Option<f64>, flag: &str| match value {
            Some(value) if !value.is_finite() || value < 0.0 => Err(Error::Usage(format!(
                "{flag} must be a number of 0 or more, not {value}"
            ))),
            other => Ok(other),
        };
        let deflection = amount(args.deflection, "--deflection")?;
        if deflection.is_some_and(|share| share > 1.0) {
            return Err(Error::Usage(
                "--deflection is a share of resets: from 0 to 1".into(),
            ));
        }
        let currency = args.currency.trim();
        if currency.is_empty() {
            return Err(Error::Usage("--currency is empty".into()));
        }
        if !(0.0..=1.0).contains(&args.unknown_warning) {
            return Err(Error::Usage(format!(
                "--unknown-warning is a share of attempts: from 0 to 1, not {}",
                args.unknown_warning
            )));
        }
        if args.ip_users == 0 || args.repeat_resets == 0 {
            return Err(Error::Usage(
                "--ip-users and --repeat-resets count from 1".into(),
            ));
        }
        let params = Parameters {
            by: args.by.as_str(),
            time_zone: calendar.zone.name().to_owned(),
            rollout_date,
            costs: Costs {
                deflection: Assumption::given_or(deflection, DEFAULT_DEFLECTION, DEFLECTION_SOURCE),
                helpdesk: Assumption::given_or(
                    amount(args.cost_helpdesk, "--cost-helpdesk")?,
                    DEFAULT_COST_HELPDESK,
                    HELPDESK_SOURCE,
                ),
                self_service: Assumption::given_or(
                    amount(args.cost_self_service, "--cost-self-service")?,
                    DEFAULT_COST_SELF_SERVICE,
                    SELF_SERVICE_SOURCE,
                ),
                currency: currency.to_owned(),
            },
            ip_users_threshold: args.ip_users,
            repeat_resets_threshold: args.repeat_resets,
            working_hours: format!(
                "{} {} {}",
                args.working_hours.trim(),
                args.working_days.trim(),
                working_zone.name()
            ),
        };
        Ok(ReportSettings {
            calendar,
            working_hours,
            params,
            pseudonyms: pseudonymizer(privacy)?,
            new_ips: true,
            unknown_warning: args.unknown_warning,
        })
    }
}

/// Where a report reads its events.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Files(Vec<PathBuf>),
    Store(PathBuf),
}

#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub source: Source,
    pub rules: ChannelRules,
    pub query: Query,
    /// Every built-in report into the directory `out` (`query` is then unused).
    pub all: bool,
    pub rendering: Rendering,
    pub out: Option<PathBuf>,
    pub settings: ReportSettings,
    pub window: Window,
    pub rejects: Option<PathBuf>,
    pub strict: bool,
}

impl ReportConfig {
    pub fn from_args(args: ReportArgs, now: DateTime<Utc>) -> Result<Self, Error> {
        let rules = load_rules(args.selection.channels.as_deref())?;
        let mut settings = ReportSettings::from_args(&args.analysis, &args.privacy)?;
        let query = match &args.query {
            Some(path) => Query {
                name: path.file_stem().map_or_else(
                    || "query".to_owned(),
                    |stem| stem.to_string_lossy().into_owned(),
                ),
                sql: read_text(path).map_err(|err| Error::Usage(format!("query file {err}")))?,
                total_sql: None,
                appendix_sql: None,
                notes: Vec::new(),
                needs_events: true,
                needs_new_ips: true,
            },
            None => {
                let report = queries::find(&args.report).ok_or_else(|| {
                    let names: Vec<&str> = REPORTS.iter().map(|report| report.name).collect();
                    Error::Usage(format!(
                        "no report named `{}`; the reports are: {}",
                        args.report,
                        names.join(", ")
                    ))
                })?;
                Query::builtin(report, &settings.params)
            }
        };
        let rendering = Rendering::chosen(args.format, args.all, args.out.as_deref());
        // --all and the HTML page write every report.
        settings.new_ips = args.all || rendering == Rendering::Page || query.needs_new_ips;
        if rendering == Rendering::Page && args.query.is_some() {
            return Err(Error::Usage(
                "--format html is one page of the built-in reports: it cannot show --query".into(),
            ));
        }
        let source = match args.source.store {
            Some(dir) => Source::Store(dir),
            None => Source::Files(args.source.input),
        };
        Ok(ReportConfig {
            source,
            rules,
            query,
            all: args.all,
            rendering,
            out: args.out,
            settings,
            window: window(&args.selection, now)?,
            rejects: args.rejects,
            strict: args.strict,
        })
    }
}

/// The channel rules: a file's, or the built-in ones.
pub fn load_rules(path: Option<&Path>) -> Result<ChannelRules, Error> {
    match path {
        None => Ok(ChannelRules::builtin()),
        Some(path) => {
            let rules = ChannelRules::from_toml(
                &read_text(path).map_err(|err| Error::Usage(format!("channel rules {err}")))?,
            )
            .map_err(|source| Error::Rules {
                path: path.to_path_buf(),
                source,
            })?;
            if !rules.ignored_keys().is_empty() {
                tracing::warn!(
                    "channel rules {}: ignoring {} (a rule reads only channel, client_type and user_agent)",
                    path.display(),
                    rules.ignored_keys().join(", ")
                );
            }
            Ok(rules)
        }
    }
}

fn window(selection: &SelectionArgs, now: DateTime<Utc>) -> Result<Window, Error> {
    let (since, until) = parse_window(selection.since.as_deref(), selection.until.as_deref(), now)
        .map_err(Error::Usage)?;
    Ok(Window { since, until })
}

/// The store given, else the default store: `ssprlens` under the user's data directory
/// (`~/.local/share` on Linux).
fn store_or_default(given: Option<PathBuf>) -> Result<PathBuf, Error> {
    given
        .or_else(|| dirs::data_dir().map(|dir| dir.join("ssprlens")))
        .ok_or_else(|| {
            Error::Usage("no data directory is known for this user: give --store DIR".into())
        })
}

/// A fetch, validated.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub store: PathBuf,
    pub graph_url: Url,
    pub auth: AuthConfig,
    /// The loggedByService values whose rows are fetched (with the Core Directory resets).
    pub services: Vec<String>,
    /// `None`: from the store's watermark minus the overlap, or 30 days back.
    pub since: Option<DateTime<Utc>>,
    pub until: DateTime<Utc>,
    pub overlap: Duration,
    pub page_size: u32,
    pub throttle: RateLimit,
    pub retry: RetryPolicy,
    pub timeout: std::time::Duration,
    pub ca_cert: Option<PathBuf>,
    pub rejects: Option<PathBuf>,
    /// Read this Log Analytics workspace instead of Graph.
    pub log_analytics: Option<Workspace>,
    /// Print the query instead of fetching (Log Analytics).
    pub print_query: bool,
    /// Compact the days written into.
    pub compact: bool,
}

/// A Log Analytics workspace to read AuditLogs from.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace id (GUID), lowercase.
    pub id: String,
    /// The Logs query API's base URL.
    pub logs_url: Url,
}

/// The `--service` values, trimmed and each once; the default services without any.
fn services_arg(given: Vec<String>) -> Result<Vec<String>, Error> {
    if given.is_empty() {
        return Ok(DEFAULT_SERVICES.map(str::to_owned).to_vec());
    }
    let mut services: Vec<String> = Vec::new();
    for name in given {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Usage("--service must not be empty".into()));
        }
        if !services.iter().any(|known| known == name) {
            services.push(name.to_owned());
        }
    }
    Ok(services)
}

/// How far back a store's first fetch reaches: Entra keeps audit logs 30 days at most.
pub const FIRST_FETCH_DAYS: i64 = 30;
/// How far back a workspace's first fetch reaches (workspaces keep 90 days by default).
pub const FIRST_WORKSPACE_DAYS: i64 = 90;

/// Where an API is, how to sign in to it, and how politely to ask: what every command that reads
/// Graph (or Log Analytics) takes from the command line.
#[derive(Debug, Clone)]
pub struct GraphConnection {
    pub graph_url: Url,
    pub auth: AuthConfig,
    pub throttle: RateLimit,
    pub retry: RetryPolicy,
    pub timeout: std::time::Duration,
    pub ca_cert: Option<PathBuf>,
}

impl GraphConnection {
    /// Graph as the arguments say: its own token scope, at `rate` unless `throttle` says
    /// otherwise.
    pub(crate) fn graph(
        connection: &ConnectionArgs,
        throttle: Option<&str>,
        rate: RateLimit,
    ) -> Result<Self, Error> {
        let graph_url = endpoint(&connection.graph_url, "--graph-url").map_err(Error::Usage)?;
        let scope = graph_scope(&graph_url);
        Self::signing_in(connection, throttle, scope, rate, None)
    }

    /// The connection the arguments describe, signing in for `scope` (with `method` when given
    /// instead of the one the arguments and the environment pick), at `rate` unless `throttle`
    /// (the text of --throttle) says otherwise.
    fn signing_in(
        connection: &ConnectionArgs,
        throttle: Option<&str>,
        scope: String,
        rate: RateLimit,
        method: Option<AuthMethod>,
    ) -> Result<Self, Error> {
        let graph_url = endpoint(&connection.graph_url, "--graph-url").map_err(Error::Usage)?;
        let auth = auth_config(&connection.sign_in, scope, method)?;
        let throttle: RateLimit = match throttle {
            Some(text) => text
                .parse()
                .map_err(|err| Error::Usage(format!("--throttle {err}")))?,
            None => rate,
        };
        let retry = RetryPolicy {
            budget: duration_arg(&connection.retry_budget, "--retry-budget")?
                .to_std()
                .unwrap_or_default(),
            ..RetryPolicy::default()
        };
        Ok(GraphConnection {
            graph_url,
            auth,
            throttle,
            retry,
            timeout: positive_duration(&connection.timeout, "--timeout")?,
            ca_cert: connection.ca_cert.clone(),
        })
    }
}

/// `ssprlens reconcile`, validated.
#[derive(Debug, Clone)]
pub struct ReconcileConfig {
    pub source: Source,
    pub rules: ChannelRules,
    pub graph: GraphConnection,
    pub rendering: Rendering,
    pub out: Option<PathBuf>,
    pub strict: bool,
}

impl ReconcileConfig {
    pub fn from_args(args: ReconcileArgs) -> Result<Self, Error> {
        let rendering = Rendering::chosen(args.format, false, args.out.as_deref());
        Ok(ReconcileConfig {
            source: match args.source.store {
                Some(dir) => Source::Store(dir),
                None => Source::Files(args.source.input),
            },
            rules: load_rules(args.channels.as_deref())?,
            graph: GraphConnection::graph(
                &args.graph.connection,
                args.graph.throttle.as_deref(),
                RateLimit::GRAPH_REPORTS,
            )?,
            rendering,
            out: args.out,
            strict: args.strict,
        })
    }
}

impl FetchConfig {
    /// A fetch signing in as the arguments and the environment say.
    pub fn from_args(args: FetchArgs, now: DateTime<Utc>) -> Result<Self, Error> {
        Self::signing_in_as(args, now, None)
    }

    /// A fetch, signing in with `method` when given instead of the one the arguments and the
    /// environment pick (the demo signs in to its simulator).
    pub(crate) fn signing_in_as(
        args: FetchArgs,
        now: DateTime<Utc>,
        method: Option<AuthMethod>,
    ) -> Result<Self, Error> {
        let store = store_or_default(args.store)?;
        let (since, until) = parse_window(args.since.as_deref(), args.until.as_deref(), now)
            .map_err(Error::Usage)?;
        let until = until.unwrap_or(now);
        if let Some(since) = since
            && since > until
        {
            return Err(Error::Usage(format!(
                "--since {since} is after --until {until} (now)"
            )));
        }
        let overlap = duration_arg(&args.overlap, "--overlap")?;
        let graph = args.graph;
        if graph.page_size == 0 {
            return Err(Error::Usage("--page-size must be at least 1".into()));
        }
        let la = args.log_analytics;
        let log_analytics = match (la.source, la.workspace) {
            (FetchSource::Graph, None) => None,
            (FetchSource::Graph, Some(_)) => {
                return Err(Error::Usage(
                    "--workspace reads Log Analytics: add --source log-analytics".into(),
                ));
            }
            (FetchSource::LogAnalytics, None) => {
                return Err(Error::Usage(
                    "--source log-analytics needs --workspace GUID (the workspace's Workspace ID, \
                     on its Overview page)"
                        .into(),
                ));
            }
            (FetchSource::LogAnalytics, Some(id)) => Some(Workspace {
                id: workspace_id(&id)?,
                logs_url: endpoint(&la.logs_url, "--logs-url").map_err(Error::Usage)?,
            }),
        };
        let print_query = la.print_query;
        if print_query && log_analytics.is_none() {
            return Err(Error::Usage(
                "--print-query shows the KQL of --source log-analytics".into(),
            ));
        }
        // Printing the query needs no sign-in: the configuration is never used to fetch.
        let method = if print_query {
            Some(AuthMethod::AzureCli)
        } else {
            method
        };
        let throttle = graph.throttle.as_deref();
        let GraphConnection {
            graph_url,
            auth,
            throttle,
            retry,
            timeout,
            ca_cert,
        } = match &log_analytics {
            Some(workspace) => GraphConnection::signing_in(
                &graph.connection,
                throttle,
                logs_scope(&workspace.logs_url),
                LOG_ANALYTICS_RATE,
                method,
            )?,
            None => {
                let graph_url =
                    endpoint(&graph.connection.graph_url, "--graph-url").map_err(Error::Usage)?;
                GraphConnection::signing_in(
                    &graph.connection,
                    throttle,
                    graph_scope(&graph_url),
                    RateLimit::GRAPH_REPORTS,
                    method,
                )?
            }
        };
        Ok(FetchConfig {
            store,
            graph_url,
            auth,
            services: services_arg(graph.service)?,
            since,
            until,
            overlap,
            page_size: graph.page_size,
            throttle,
            retry,
            timeout,
            ca_cert,
            rejects: args.rejects,
            log_analytics,
            print_query,
            compact: !args.no_compact,
        })
    }
}

/// A workspace id: a GUID, compared and kept in lowercase.
fn workspace_id(text: &str) -> Result<String, Error> {
    let id = text.trim().to_ascii_lowercase();
    let groups: Vec<&str> = id.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|group| group.len()).collect();
    if lengths != [8, 4, 4, 4, 12]
        || !groups
            .iter()
            .all(|group| group.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(Error::Usage(format!(
            "--workspace `{text}` is not a workspace id: use the GUID shown as Workspace ID on the \
             workspace's Overview page (not its name or resource id)"
        )));
    }
    Ok(id)
}

/// An Entra tenant id as stores and the lake keep it: lowercase; a GUID or a domain name.
pub fn tenant_id(text: &str) -> Result<String, Error> {
    let id = text.trim().to_ascii_lowercase();
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(Error::Usage(format!(
            "--tenant-id `{text}` is not a tenant id: use the directory's GUID (Entra admin \
             center, Overview, Tenant ID)"
        )));
    }
    Ok(id)
}

/// `ssprlens import`, validated.
#[derive(Debug, Clone)]
pub struct ImportConfig {
    pub store: PathBuf,
    pub inputs: Vec<PathBuf>,
    /// Storage-account archive locations among the inputs, and how to reach them.
    pub archive: Option<ArchiveConfig>,
    pub rejects: Option<PathBuf>,
    /// The tenant the exports are of, recorded in the store.
    pub tenant_id: Option<String>,
    /// Compact the days written into.
    pub compact: bool,
}

/// Storage-account archive locations to import, and how to reach them.
#[derive(Debug, Clone)]
pub struct ArchiveConfig {
    pub locations: Vec<Location>,
    pub access: StorageAccess,
    pub timeout: std::time::Duration,
}

impl ArchiveConfig {
    /// The locations given (none: `None`), with the access the environment and arguments choose.
    fn from_args(
        urls: &[String],
        archive: &ArchiveArgs,
        sign_in: &SignInArgs,
        timeout: std::time::Duration,
    ) -> Result<Option<Self>, Error> {
        if urls.is_empty() {
            return Ok(None);
        }
        let emulator = StorageAccess::emulator_requested();
        let account = archive.storage_account.as_deref();
        let locations = urls
            .iter()
            .map(|url| Location::parse(url, account, emulator))
            .collect::<Result<Vec<_>, String>>()
            .map_err(Error::Usage)?;
        let access = storage_access(sign_in)?;
        Ok(Some(ArchiveConfig {
            locations,
            access,
            timeout,
        }))
    }
}

/// The access the environment gives (the emulator, a key, a SAS), else signing in.
fn storage_access(sign_in: &SignInArgs) -> Result<StorageAccess, Error> {
    Ok(match StorageAccess::from_environment() {
        Some(access) => access,
        None => StorageAccess::Credential(
            auth_config(sign_in, crate::storage::STORAGE_SCOPE.to_owned(), None).map_err(
                |err| match err {
                    Error::Usage(text) => Error::Usage(format!(
                        "{text}; storage can also be reached with an account key \
                         (AZURE_STORAGE_ACCOUNT_KEY) or a SAS (AZURE_STORAGE_SAS_TOKEN)"
                    )),
                    other => other,
                },
            )?,
        ),
    })
}

/// A lake location and how to reach it.
#[cfg(feature = "lake")]
#[derive(Debug, Clone)]
pub struct LakeTarget {
    pub location: Location,
    pub access: StorageAccess,
    pub timeout: std::time::Duration,
}

#[cfg(feature = "lake")]
impl LakeTarget {
    fn from_args(
        url: &str,
        storage: &ArchiveArgs,
        sign_in: &SignInArgs,
        timeout: std::time::Duration,
    ) -> Result<Self, Error> {
        let location = Location::parse(
            url,
            storage.storage_account.as_deref(),
            StorageAccess::emulator_requested(),
        )
        .map_err(Error::Usage)?;
        Ok(LakeTarget {
            location,
            access: storage_access(sign_in)?,
            timeout,
        })
    }
}

/// `ssprlens publish`, validated.
#[cfg(feature = "lake")]
#[derive(Debug, Clone)]
pub struct PublishConfig {
    pub store: PathBuf,
    pub target: LakeTarget,
    /// The tenant to publish as when the store records none.
    pub tenant_id: Option<String>,
    pub rules: ChannelRules,
    pub settings: ReportSettings,
}

#[cfg(feature = "lake")]
impl PublishConfig {
    pub fn from_args(args: crate::cli::PublishArgs) -> Result<Self, Error> {
        let timeout = positive_duration(&args.timeout, "--timeout")?;
        Ok(PublishConfig {
            store: store_or_default(args.store)?,
            target: LakeTarget::from_args(&args.to, &args.storage, &args.sign_in, timeout)?,
            tenant_id: args
                .sign_in
                .tenant_id
                .as_deref()
                .map(tenant_id)
                .transpose()?,
            rules: load_rules(args.channels.as_deref())?,
            settings: ReportSettings::from_args(&AnalysisArgs::default(), &args.privacy)?,
        })
    }
}

/// Whether an `--input` names a storage-account archive rather than a file.
fn is_archive_url(input: &str) -> bool {
    let lower = input.trim().to_ascii_lowercase();
    lower.starts_with("az://") || lower.starts_with("https://") || lower.starts_with("http://")
}

impl ImportConfig {
    pub fn from_args(args: ImportArgs) -> Result<Self, Error> {
        let (urls, paths): (Vec<String>, Vec<String>) = args
            .input
            .into_iter()
            .partition(|input| is_archive_url(input));
        let timeout = positive_duration(&args.timeout, "--timeout")?;
        Ok(ImportConfig {
            store: store_or_default(args.store)?,
            inputs: paths.into_iter().map(PathBuf::from).collect(),
            archive: ArchiveConfig::from_args(&urls, &args.archive, &args.sign_in, timeout)?,
            rejects: args.rejects,
            tenant_id: args
                .sign_in
                .tenant_id
                .as_deref()
                .map(tenant_id)
                .transpose()?,
            compact: !args.no_compact,
        })
    }
}

/// `ssprlens compact`, validated.
#[derive(Debug, Clone)]
pub struct CompactConfig {
    pub store: PathBuf,
    /// The days to compact, both ends included; `None`: every day.
    pub days: Option<(NaiveDate, NaiveDate)>,
}

impl CompactConfig {
    pub fn from_args(args: CompactArgs, now: DateTime<Utc>) -> Result<Self, Error> {
        let (since, until) = parse_window(args.since.as_deref(), args.until.as_deref(), now)
            .map_err(Error::Usage)?;
        let days = match (since, until) {
            (None, None) => None,
            (since, until) => Some((
                since.map_or(NaiveDate::MIN, |since| since.date_naive()),
                until.map_or(NaiveDate::MAX, |until| until.date_naive()),
            )),
        };
        Ok(CompactConfig {
            store: store_or_default(args.store)?,
            days,
        })
    }
}

/// `ssprlens calibrate`, validated.
#[derive(Debug, Clone)]
pub struct CalibrateConfig {
    pub source: Source,
    /// Lowercased, as attempts keep it.
    pub user: String,
    pub labels: Vec<Label>,
    pub base: ChannelRules,
    pub out: Option<PathBuf>,
}

impl CalibrateConfig {
    pub fn from_args(args: CalibrateArgs) -> Result<Self, Error> {
        let user = args.user.trim().to_lowercase();
        if user.is_empty() {
            return Err(Error::Usage("--user is empty".into()));
        }
        let labelled = [
            ("login_screen", "--login-screen", Some(args.login_screen)),
            ("web", "--web", args.web),
            ("other", "--other", args.other),
        ];
        let mut labels = Vec::new();
        for (channel, option, time) in labelled {
            let Some(text) = time else { continue };
            let time = parse_label_time(&text).ok_or_else(|| {
                Error::Usage(format!(
                    "{option} `{text}` is not a time: use RFC 3339 (2026-10-05T09:12:00Z) or YYYY-MM-DDTHH:MM (UTC)"
                ))
            })?;
            labels.push(Label {
                channel: channel.to_owned(),
                option: option.to_owned(),
                time,
            });
        }
        Ok(CalibrateConfig {
            source: match args.source.store {
                Some(dir) => Source::Store(dir),
                None => Source::Files(args.source.input),
            },
            user,
            labels,
            base: load_rules(args.channels.as_deref())?,
            out: args.out,
        })
    }
}

/// A test reset's time: RFC 3339, or `YYYY-MM-DDTHH:MM` (seconds optional) in UTC.
fn parse_label_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.to_utc())
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
                .iter()
                .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
                .map(|naive| naive.and_utc())
        })
}

/// `ssprlens run`, validated.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub fetch: FetchConfig,
    /// Archive locations to import after the fetch.
    pub archive: Option<ArchiveConfig>,
    pub out: PathBuf,
    pub rendering: Rendering,
    pub rules: ChannelRules,
    pub settings: ReportSettings,
    /// The lake to publish the store to after the reports.
    #[cfg(feature = "lake")]
    pub publish: Option<LakeTarget>,
}

impl RunConfig {
    pub fn from_args(args: RunArgs, now: DateTime<Utc>) -> Result<Self, Error> {
        let timeout = positive_duration(&args.fetch.graph.connection.timeout, "--timeout")?;
        Ok(RunConfig {
            rules: load_rules(args.channels.as_deref())?,
            settings: ReportSettings::from_args(&args.analysis, &args.privacy)?,
            archive: ArchiveConfig::from_args(
                &args.archive,
                &args.archive_access,
                &args.fetch.graph.connection.sign_in,
                timeout,
            )?,
            #[cfg(feature = "lake")]
            publish: args
                .publish
                .as_deref()
                .map(|url| {
                    LakeTarget::from_args(
                        url,
                        &args.archive_access,
                        &args.fetch.graph.connection.sign_in,
                        timeout,
                    )
                })
                .transpose()?,
            fetch: FetchConfig::from_args(args.fetch, now)?,
            out: args.out,
            rendering: args.format,
        })
    }
}

/// A duration that must be longer than zero, such as a timeout.
fn positive_duration(text: &str, flag: &str) -> Result<std::time::Duration, Error> {
    let duration = duration_arg(text, flag)?.to_std().unwrap_or_default();
    if duration.is_zero() {
        return Err(Error::Usage(format!("{flag} must be longer than zero")));
    }
    Ok(duration)
}

fn duration_arg(text: &str, flag: &str) -> Result<Duration, Error> {
    parse_duration(text)
        .and_then(|duration| Duration::from_std(duration).ok())
        .ok_or_else(|| {
            Error::Usage(format!(
                "{flag} `{text}` is not a duration: use {DURATION_FORMS}"
            ))
        })
}

/// Picks the sign-in method for `scope`: `method` when given; managed identity or Azure CLI when
/// asked, else a certificate, a client secret, or a federated token file, in that order, as the
/// Azure SDKs do.
fn auth_config(
    graph: &SignInArgs,
    scope: String,
    method: Option<AuthMethod>,
) -> Result<AuthConfig, Error> {
    let authority = endpoint(&graph.authority_host, "--authority-host").map_err(Error::Usage)?;
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let method = if let Some(method) = method {
        method
    } else if graph.managed_identity {
        AuthMethod::ManagedIdentity {
            client_id: graph.client_id.clone(),
        }
    } else if graph.azure_cli {
        AuthMethod::AzureCli
    } else if let Some(path) = &graph.certificate {
        let pkcs12 = std::fs::read(path)
            .map_err(|err| Error::Usage(format!("--certificate {}: {err}", path.display())))?;
        AuthMethod::Certificate {
            pkcs12: SecretBytes::new(pkcs12),
            password: env("AZURE_CLIENT_CERTIFICATE_PASSWORD").map(Secret::new),
        }
    } else if let Some(path) = &graph.client_secret_file {
        let text = std::fs::read_to_string(path).map_err(|err| {
            Error::Usage(format!("--client-secret-file {}: {err}", path.display()))
        })?;
        let secret = text.trim();
        if secret.is_empty() {
            return Err(Error::Usage(format!(
                "--client-secret-file {} is empty",
                path.display()
            )));
        }
        AuthMethod::ClientSecret(Secret::new(secret.to_owned()))
    } else if let Some(secret) = env("AZURE_CLIENT_SECRET") {
        AuthMethod::ClientSecret(Secret::new(secret))
    } else if let Some(path) = env("AZURE_FEDERATED_TOKEN_FILE") {
        AuthMethod::WorkloadIdentity {
            token_file: PathBuf::from(path),
        }
    } else {
        return Err(Error::Usage(
            "no way to sign in: set AZURE_CLIENT_SECRET (or --client-secret-file), --certificate \
             (or AZURE_CLIENT_CERTIFICATE_PATH), AZURE_FEDERATED_TOKEN_FILE, or use --managed-identity or --azure-cli"
                .into(),
        ));
    };
    if matches!(
        method,
        AuthMethod::ClientSecret(_) | AuthMethod::Certificate { .. }
    ) {
        if graph.tenant_id.is_none() {
            return Err(Error::Usage(
                "no tenant id: set AZURE_TENANT_ID or --tenant-id".into(),
            ));
        }
        if graph.client_id.is_none() {
            return Err(Error::Usage(
                "no client id: set AZURE_CLIENT_ID or --client-id".into(),
            ));
        }
    }
    Ok(AuthConfig {
        method,
        tenant_id: graph.tenant_id.clone(),
        client_id: graph.client_id.clone(),
        authority,
        scope,
    })
}

/// The token scope for a Graph endpoint: the national clouds' own Graph hosts, else the public
/// Graph (also behind proxies and simulators).
fn graph_scope(graph_url: &Url) -> String {
    const NATIONAL: [&str; 3] = [
        "graph.microsoft.us",
        "dod-graph.microsoft.us",
        "microsoftgraph.chinacloudapi.cn",
    ];
    match graph_url.host_str() {
        Some(host) if NATIONAL.contains(&host) => format!("https://{host}/.default"),
        _ => "https://graph.microsoft.com/.default".to_owned(),
    }
}
