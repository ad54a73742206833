//! `ssprlens demo`: the whole real path — token request, paging, throttling, retries, store,
//! reports — against the built-in Graph simulator on 127.0.0.1, seeded with the sample tenant
//! of `data/sample` and a simulated Intune fleet, whose reach is shown beside the channels; with
//! `--source log-analytics`, against its Log Analytics workspace (day windows, partial answers
//! split, dynamic cells as text, throttling). Nothing leaves the machine, and the output says
//! the data is simulated.

use std::path::{Path, PathBuf};

use clap::{Args, FromArgMatches};
use std::time::Duration;

use azure_core::credentials::Secret;
use tracing::info;

use super::fetch::{Progress, fetch};
use super::fit::warn_if_unknown;
use super::load::{Load, Needs, load};
use super::reach;
use super::reconcile::compare_and_write;
use super::report::{write_all_reports, write_report};
use crate::cli::{FetchArgs, FetchSource, ReachReport};
use crate::config::{FetchConfig, GraphConnection, Query, ReachConfig, ReportSettings, Source};
use crate::error::Error;
use crate::fetcher::graph::auth::{AuthConfig, AuthMethod, TokenSource};
use crate::fetcher::graph::http;
use crate::fetcher::graph::pager::Connection;
use crate::fetcher::graph::throttle::RateLimit;
use crate::fetcher::graph::{Cancel, FetchError};
use crate::reporter::Rendering;
use crate::reporter::export::Format;
use crate::reporter::queries;
use crate::reporter::reach::ADOPTION_SQL;
use crate::simulator::{
    Fault, Fleet, Simulator, SimulatorConfig, Throttle, WorkspaceConfig, sample_records,
};
use crate::transformer::rules::ChannelRules;
use crate::transformer::window::Window;

/// The day the demo's simulator reports more self-service resets than its records hold.
const DISAGREEING_DAY: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2026, 10, 20) {
    Some(day) => day,
    None => panic!("a valid date"),
};

/// The demo's throttle: Graph's 5 requests per 10 seconds, ten times faster to keep it short.
const DEMO_THROTTLE: RateLimit = RateLimit {
    requests: 5,
    window: Duration::from_secs(1),
};

/// The window the demo fetches: all of the sample tenant.
const DEMO_SINCE: &str = "2026-08-01T00:00:00Z";
const DEMO_UNTIL: &str = "2026-12-01T00:00:00Z";

/// The demo's workspace: rows beyond this many per answer make it partial, so windows split.
const DEMO_ROW_LIMIT: usize = 100;

/// Where the demo keeps its store and writes its reports, and what it fetches from.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// `None`: a temporary directory, removed afterwards.
    pub store: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub source: FetchSource,
}

/// The demo's fetch: parsed from `fetch` arguments like any other, against the simulator, with
/// the simulator's own client secret.
fn demo_fetch_config(
    url: &str,
    store: &Path,
    workspace: Option<&str>,
    tenant: String,
    client: String,
    secret: String,
) -> Result<FetchConfig, Error> {
    let store = store.display().to_string();
    let throttle = format!(
        "{}/{}ms",
        DEMO_THROTTLE.requests,
        DEMO_THROTTLE.window.as_millis()
    );
    let mut argv = vec![
        "demo",
        "--store",
        &store,
        "--graph-url",
        url,
        "--authority-host",
        url,
        "--tenant-id",
        &tenant,
        "--client-id",
        &client,
        "--since",
        DEMO_SINCE,
        "--until",
        DEMO_UNTIL,
        "--page-size",
        "100",
        "--throttle",
        &throttle,
        "--timeout",
        "30s",
    ];
    if let Some(workspace) = workspace {
        argv.extend([
            "--source",
            "log-analytics",
            "--workspace",
            workspace,
            "--logs-url",
            url,
        ]);
    }
    let args = FetchArgs::augment_args(clap::Command::new("demo"))
        .try_get_matches_from(argv)
        .and_then(|matches| FetchArgs::from_arg_matches(&matches))
        .map_err(|err| Error::Runtime(format!("the demo's fetch arguments: {err}")))?;
    FetchConfig::signing_in_as(
        args,
        chrono::Utc::now(),
        Some(AuthMethod::ClientSecret(Secret::new(secret))),
    )
}

pub async fn demo(config: &DemoConfig, cancel: Cancel, progress: &Progress) -> Result<(), Error> {
    let now = chrono::Utc::now();
    let simulated = SimulatorConfig {
        records: sample_records(),
        throttle: Some(Throttle {
            requests: DEMO_THROTTLE.requests,
            window: DEMO_THROTTLE.window,
        }),
        fault_rate: 0.1,
        faults: vec![
            Fault::Status503 { retry_after: true },
            Fault::Status500,
            Fault::TruncatedBody,
        ],
        seed: 7,
        token_lifetime: Duration::from_secs(120),
        summary_disagreements: vec![(DISAGREEING_DAY, 5, 0)],
        workspace: WorkspaceConfig {
            row_limit: DEMO_ROW_LIMIT,
            ..WorkspaceConfig::default()
        },
        fleet: Some(Fleet::sample(now)),
        ..SimulatorConfig::default()
    };
    let workspace_id = simulated.workspace.id.clone();
    let log_analytics = config.source == FetchSource::LogAnalytics;
    let (tenant, client, secret) = (
        simulated.tenant_id.clone(),
        simulated.client_id.clone(),
        simulated.client_secret.clone(),
    );
    let simulator = Simulator::start(simulated).await.map_err(|err| {
        Error::Runtime(format!(
            "cannot start the Graph simulator on 127.0.0.1: {err}"
        ))
    })?;
    if log_analytics {
        println!(
            "SIMULATED DATA: a built-in Log Analytics simulator on {} serves the synthetic sample tenant of \
             data/sample as AuditLogs rows (at most {DEMO_ROW_LIMIT} rows an answer, throttled to 5 requests \
             per second). No tenant is contacted.",
            simulator.url()
        );
    } else {
        println!(
            "SIMULATED DATA: a built-in Graph simulator on {} serves the synthetic sample tenant of data/sample \
             (throttled to 5 requests per second, 10% injected faults). No tenant is contacted.",
            simulator.url()
        );
    }
    let temporary = match &config.store {
        Some(_) => None,
        None => Some(
            tempfile::tempdir()
                .map_err(|err| Error::Runtime(format!("cannot make a temporary store: {err}")))?,
        ),
    };
    let store = config.store.clone().unwrap_or_else(|| {
        temporary
            .as_ref()
            .map(|dir| dir.path().to_path_buf())
            .unwrap_or_default()
    });
    let fetch_config = demo_fetch_config(
        &simulator.url(),
        &store,
        (log_analytics).then_some(workspace_id.as_str()),
        tenant,
        client,
        secret,
    )?;
    let outcome = fetch(&fetch_config, cancel.clone(), progress).await;
    let stats = simulator.stats();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) => {
            simulator.shutdown().await;
            return Err(err);
        }
    };
    if log_analytics {
        println!(
            "Fetched {} windows ({} split after a partial answer; {} records, {} new) with {} queries: {} throttled (429), {} tokens issued.",
            outcome.stats.pages,
            outcome.stats.splits,
            outcome.stats.records,
            outcome.stored,
            stats.queries,
            stats.throttled,
            stats.tokens_issued
        );
    } else {
        println!(
            "Fetched {} pages ({} records, {} new) with {} requests: {} throttled (429), {} faults retried, {} tokens issued.",
            outcome.stats.pages,
            outcome.stats.records,
            outcome.stored,
            stats.requests,
            stats.throttled,
            stats.faults_injected,
            stats.tokens_issued
        );
    }
    let rules = ChannelRules::builtin();
    let settings = ReportSettings::default();
    let (mut tables, _) = load(&Load {
        source: &Source::Store(store.clone()),
        needs: Needs::Attempts,
        rules: &rules,
        window: &Window::default(),
        settings: &settings,
        rejects: None,
        strict: false,
    })?;
    let channels = queries::find("channels").expect("the channels report is built in");
    let query = Query::builtin(channels, &settings.params);
    write_report(&mut tables, &query, Format::Table, None)?;
    warn_if_unknown(&mut tables, settings.unknown_warning)?;
    println!(
        "\nOur daily counts beside Microsoft's (the simulator's userPasswordResetsAndChangesSummary, told to \
         report 5 more self-service resets on {DISAGREEING_DAY} than its records hold: that day is `check`):"
    );
    // Graph's own token scope, also when the records came from the Log Analytics simulator.
    let graph_auth = AuthConfig {
        scope: "https://graph.microsoft.com/.default".to_owned(),
        ..fetch_config.auth.clone()
    };
    let client = http::client(fetch_config.timeout, None).map_err(Error::Usage)?;
    let connection = Connection {
        graph_url: fetch_config.graph_url.clone(),
        throttle: fetch_config.throttle,
        retry: fetch_config.retry,
        tokens: TokenSource::new(graph_auth.clone(), client.clone())
            .map_err(|err| Error::Fetch(FetchError::Auth(err)))?,
        http: client,
        cancel: cancel.clone(),
    };
    let reconciled = compare_and_write(
        &mut tables,
        connection,
        Rendering::Table(Format::Table),
        None,
    )
    .await;
    let reach_config = ReachConfig {
        connection: GraphConnection {
            graph_url: fetch_config.graph_url.clone(),
            auth: graph_auth,
            throttle: DEMO_THROTTLE,
            retry: fetch_config.retry,
            timeout: fetch_config.timeout,
            ca_cert: None,
        },
        throttle: DEMO_THROTTLE,
        page_size: 10,
        report: ReachReport::Summary,
        all: false,
        format: Format::Table,
        out: None,
        active_days: 30,
        audit: Some(Source::Store(store.clone())),
        settings: ReportSettings::default(),
        now,
    };
    let assessment = match reconciled {
        Ok(_) => Some(reach::assess_tenant(&reach_config, cancel).await),
        Err(_) => None,
    };
    simulator.shutdown().await;
    reconciled?;
    if let Some(assessment) = assessment {
        let assessment = assessment?;
        println!(
            "\nThe simulated fleet's reach (Windows devices that can show \"Reset password\" on the sign-in screen), beside the weekly sign-in-screen resets:"
        );
        let adoption = tables.query("reach_adoption", ADOPTION_SQL)?;
        reach::write(
            &assessment,
            Some(&adoption),
            ReachReport::Summary,
            Format::Table,
            None,
        )?;
    }
    if let Some(out) = &config.out {
        let written = write_all_reports(
            &mut tables,
            out,
            Rendering::Table(Format::Csv),
            &settings.params,
        )?;
        info!("wrote {} reports into {}", written.len(), out.display());
    }
    match &config.store {
        Some(dir) => println!(
            "The store is in {}: try `ssprlens report --store {} --report client_types`.",
            dir.display(),
            dir.display()
        ),
        None => println!(
            "Next: `ssprlens report --input data/sample/audit.ndjson --report client_types`, or `ssprlens fetch` against your tenant."
        ),
    }
    Ok(())
}
