//! Command-line arguments → a validated configuration. Raw arguments stop here: files named by
//! them (rules, queries) are read and checked, times are resolved against the `now` passed in.

use std::path::{Path, PathBuf};

use azure_core::credentials::{Secret, SecretBytes};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use polars::prelude::{BooleanChunked, DataFrame, PolarsResult};
use url::Url;

use crate::cli::{
    AnalysisArgs, ConnectionArgs, FetchArgs, ImportArgs, PrivacyArgs, ReportArgs, RunArgs,
    SelectionArgs,
};
use crate::columns::{attempt_columns, time_nanos};
use crate::error::Error;
use crate::fetcher::files::read_text;
use crate::fetcher::graph::auth::{AuthConfig, AuthMethod};
use crate::fetcher::graph::http::endpoint;
use crate::fetcher::graph::retry::RetryPolicy;
use crate::fetcher::graph::throttle::{RateLimit, parse_duration};
use crate::model::Event;
use crate::reporter::export::Format;
use crate::reporter::params::{
    Assumption, Costs, DEFAULT_COST_HELPDESK, DEFAULT_COST_SELF_SERVICE, DEFAULT_DEFLECTION,
    DEFLECTION_SOURCE, HELPDESK_SOURCE, Parameters, SELF_SERVICE_SOURCE,
};
use crate::reporter::queries::{self, REPORTS, Report};
use crate::transformer::calendar::{Calendar, WorkingHours};
use crate::transformer::event::parse_time;
use crate::transformer::pseudonym::Pseudonymizer;
use crate::transformer::rules::ChannelRules;

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
            needs_events: false,
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
        })
    }
}

/// The time window of a report, both ends inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    fn contains(&self, time: Option<DateTime<Utc>>) -> bool {
        if self.since.is_none() && self.until.is_none() {
            return true;
        }
        time.is_some_and(|time| {
            self.since.is_none_or(|since| time >= since)
                && self.until.is_none_or(|until| time <= until)
        })
    }

    /// Keeps the events that happened in the window and the attempts (rows of the `attempts`
    /// table) that began in it. Attempts are built from all events first, so an attempt
    /// crossing the edge stays whole.
    pub fn apply(&self, events: &mut Vec<Event>, attempts: &mut DataFrame) -> PolarsResult<()> {
        if *self == Window::default() {
            return Ok(());
        }
        events.retain(|event| self.contains(event.time));
        let started = time_nanos(attempts.column(attempt_columns::STARTED)?)?;
        let inside: BooleanChunked = started
            .iter()
            .map(|nanos| self.contains(nanos.map(DateTime::from_timestamp_nanos)))
            .collect();
        *attempts = attempts.filter(&inside)?;
        Ok(())
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
    pub format: Format,
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
        let format = match (args.format, args.all) {
            (Some(format), _) => format,
            (None, true) => Format::Csv,
            (None, false) => args
                .out
                .as_deref()
                .and_then(Format::from_extension)
                .unwrap_or(Format::Table),
        };
        // --all and the HTML page write every report.
        settings.new_ips = args.all || format == Format::Html || query.needs_new_ips;
        if format == Format::Html && args.query.is_some() {
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
            format,
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
    let window = Window {
        since: selection
            .since
            .as_deref()
            .map(|text| parse_moment(text, now, false))
            .transpose()?,
        until: selection
            .until
            .as_deref()
            .map(|text| parse_moment(text, now, true))
            .transpose()?,
    };
    if let (Some(since), Some(until)) = (window.since, window.until)
        && since > until
    {
        return Err(Error::Usage(format!(
            "--since {since} is after --until {until}"
        )));
    }
    Ok(window)
}

/// The default store: `ssprlens` under the user's data directory (`~/.local/share` on Linux).
pub fn default_store() -> Result<PathBuf, Error> {
    dirs::data_dir()
        .map(|dir| dir.join("ssprlens"))
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
    pub service: String,
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
}

/// A Graph connection, validated: where Graph and the authority are, how to sign in, how long
/// to keep trying.
#[derive(Debug, Clone)]
pub struct Connection {
    pub graph_url: Url,
    pub auth: AuthConfig,
    pub retry: RetryPolicy,
    pub timeout: std::time::Duration,
    pub ca_cert: Option<PathBuf>,
}

impl Connection {
    pub fn from_args(args: &ConnectionArgs) -> Result<Self, Error> {
        let graph_url = endpoint(&args.graph_url, "--graph-url").map_err(Error::Usage)?;
        let auth = auth_config(args, &graph_url)?;
        let retry = RetryPolicy {
            budget: duration_arg(&args.retry_budget, "--retry-budget")?
                .to_std()
                .unwrap_or_default(),
            ..RetryPolicy::default()
        };
        let timeout = duration_arg(&args.timeout, "--timeout")?
            .to_std()
            .unwrap_or_default();
        if timeout.is_zero() {
            return Err(Error::Usage("--timeout must be longer than zero".into()));
        }
        Ok(Connection {
            graph_url,
            auth,
            retry,
            timeout,
            ca_cert: args.ca_cert.clone(),
        })
    }
}

/// How far back a store's first fetch reaches: Entra keeps audit logs 30 days at most.
pub const FIRST_FETCH_DAYS: i64 = 30;

impl FetchConfig {
    pub fn from_args(args: FetchArgs, now: DateTime<Utc>) -> Result<Self, Error> {
        let store = match args.store {
            Some(dir) => dir,
            None => default_store()?,
        };
        let since = args
            .since
            .as_deref()
            .map(|text| parse_moment(text, now, false))
            .transpose()?;
        let until = args
            .until
            .as_deref()
            .map(|text| parse_moment(text, now, true))
            .transpose()?
            .unwrap_or(now);
        if let Some(since) = since
            && since > until
        {
            return Err(Error::Usage(format!(
                "--since {since} is after --until {until}"
            )));
        }
        let overlap = duration_arg(&args.overlap, "--overlap")?;
        let graph = args.graph;
        let connection = Connection::from_args(&graph.connection)?;
        if graph.page_size == 0 {
            return Err(Error::Usage("--page-size must be at least 1".into()));
        }
        let throttle: RateLimit = graph
            .throttle
            .parse()
            .map_err(|err| Error::Usage(format!("--throttle {err}")))?;
        let Connection {
            graph_url,
            auth,
            retry,
            timeout,
            ca_cert,
        } = connection;
        Ok(FetchConfig {
            store,
            graph_url,
            auth,
            service: graph.service,
            since,
            until,
            overlap,
            page_size: graph.page_size,
            throttle,
            retry,
            timeout,
            ca_cert,
            rejects: args.rejects,
        })
    }
}

/// `ssprlens import`, validated.
#[derive(Debug, Clone)]
pub struct ImportConfig {
    pub store: PathBuf,
    pub inputs: Vec<PathBuf>,
    pub rejects: Option<PathBuf>,
}

impl ImportConfig {
    pub fn from_args(args: ImportArgs) -> Result<Self, Error> {
        Ok(ImportConfig {
            store: match args.store {
                Some(dir) => dir,
                None => default_store()?,
            },
            inputs: args.input,
            rejects: args.rejects,
        })
    }
}

/// `ssprlens run`, validated.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub fetch: FetchConfig,
    pub out: PathBuf,
    pub format: Format,
    pub rules: ChannelRules,
    pub settings: ReportSettings,
}

impl RunConfig {
    pub fn from_args(args: RunArgs, now: DateTime<Utc>) -> Result<Self, Error> {
        Ok(RunConfig {
            rules: load_rules(args.channels.as_deref())?,
            settings: ReportSettings::from_args(&args.analysis, &args.privacy)?,
            fetch: FetchConfig::from_args(args.fetch, now)?,
            out: args.out,
            format: args.format,
        })
    }
}

fn duration_arg(text: &str, flag: &str) -> Result<Duration, Error> {
    parse_duration(text.trim())
        .and_then(|duration| Duration::from_std(duration).ok())
        .ok_or_else(|| {
            Error::Usage(format!(
                "{flag} `{text}` is not a duration: use 90s, 30m, 1h, 1.5s or 250ms"
            ))
        })
}

/// Picks the sign-in method: managed identity or Azure CLI when asked, else a certificate, a
/// client secret, or a federated token file, in that order, as the Azure SDKs do.
fn auth_config(graph: &ConnectionArgs, graph_url: &Url) -> Result<AuthConfig, Error> {
    let authority = endpoint(&graph.authority_host, "--authority-host").map_err(Error::Usage)?;
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let method = if graph.managed_identity {
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
        scope: graph_scope(graph_url),
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

/// Parses `--since`/`--until`: RFC 3339, a date (its start, or for `end_of_day` its last
/// instant), or an age before `now` (`90s`, `30m`, `12h`, `7d`, `2w`).
pub fn parse_moment(
    text: &str,
    now: DateTime<Utc>,
    end_of_day: bool,
) -> Result<DateTime<Utc>, Error> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        return Ok(if end_of_day {
            start + Duration::days(1) - Duration::nanoseconds(1)
        } else {
            start
        });
    }
    if let Some(time) = parse_time(text) {
        return Ok(time);
    }
    parse_age(text)
        .map(|age| now - age)
        .ok_or_else(|| Error::Usage(format!("`{text}` is not a time: use RFC 3339 (2026-11-01T00:00:00Z), a date (2026-11-01) or an age (7d, 12h)")))
}

/// `90s`, `30m`, `12h`, `7d`, `2w` as a duration.
pub fn parse_age(text: &str) -> Option<Duration> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(unit_at);
    let count: i64 = digits.parse().ok()?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    count
        .checked_mul(seconds_per_unit)
        .and_then(Duration::try_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn moments_in_every_form() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let at = |text, end| parse_moment(text, now, end).unwrap().to_rfc3339();
        assert_eq!(
            at("2026-11-01T08:30:00Z", false),
            "2026-11-01T08:30:00+00:00"
        );
        assert_eq!(at("2026-11-01", false), "2026-11-01T00:00:00+00:00");
        assert_eq!(
            at("2026-11-01", true),
            "2026-11-01T23:59:59.999999999+00:00"
        );
        assert_eq!(at("7d", false), "2026-11-18T12:00:00+00:00");
        assert_eq!(at("12h", false), "2026-11-25T00:00:00+00:00");
        assert_eq!(at("2w", false), "2026-11-11T12:00:00+00:00");
        for bad in [
            "",
            "7",
            "d",
            "7y",
            "-7d",
            "yesterday",
            "99999999999999999999d",
        ] {
            assert!(parse_moment(bad, now, false).is_err(), "{bad}");
        }
    }
}
