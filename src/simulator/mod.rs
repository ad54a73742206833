//! A simulated Entra tenant over real HTTP on 127.0.0.1: Entra's token endpoint and Graph's
//! `auditLogs/directoryAudits`, with Graph's paging, throttling and faults, and the same records
//! in a Log Analytics workspace's `AuditLogs` table (`POST /v1/workspaces/{id}/query`). `ssprlens demo` uses
//! it to show the whole fetch path without a tenant; the fetcher's tests use it to prove the
//! fetcher survives what Graph does.
//!
//! [`Simulator::url`] serves both sides: it is the authority host (`POST
//! /{tenant}/oauth2/v2.0/token`) and the Graph base (`GET /v1.0/auditLogs/directoryAudits`,
//! also under `/beta`). What is modelled, module by module:
//! - `token`: the client credentials grant and Entra's AADSTS error objects;
//! - `audits`: one directoryAudits request, stage by stage (delay, token, throttle, query,
//!   page or fault); `query`: the `$filter` subset and `$top`; `paging`: newest-first pages
//!   with opaque, stateless skiptokens and the occasional empty page;
//! - `summary`: Microsoft's daily reset counts (`GET /beta/reports/authenticationMethods/
//!   userPasswordResetsAndChangesSummary`), from the records served;
//! - `throttle`: Graph's sliding window per app with a fractional `Retry-After`;
//! - `faults`: 5xx, truncated bodies, resets, HTML error pages, slow answers, spurious 401s;
//! - `log_analytics`: the Logs query API: AuditLogs rows, `PartialError` beyond a row limit,
//!   dynamic cells as JSON text, 429 and 403;
//! - `graph`: Graph's error object and request-id headers; `random`: seeded and
//!   unpredictable randomness; `stats`: what happened, for tests to check;
//! - `fleet`: a simulated Intune fleet with its truth, and `intune`: the device, managed device,
//!   configuration, settings-catalog, status and report-action endpoints serving it.
//!
//! The client secret is never echoed, logged or counted; tokens cannot be guessed.
//!
//! The simulator speaks plain http. azure_identity 1.0 refuses an authority host that is not
//! https, so a `ClientSecretCredential` reaches it through `ClientOptions::transport`: an
//! `HttpClient` that sends `https://127.0.0.1:PORT/...` as `http://`. Its token cache also
//! renews any token within 300 s of expiry, so with a `token_lifetime` under 5 minutes every
//! `get_token` fetches a new token.

mod audits;
#[cfg(feature = "test-support")]
mod background;
mod config;
mod faults;
mod fleet;
mod graph;
mod intune;
mod log_analytics;
mod paging;
mod query;
mod random;
mod sample;
mod stats;
mod summary;
mod throttle;
mod token;

#[cfg(test)]
mod tests;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[cfg(feature = "test-support")]
pub use background::{BackgroundSimulator, start_in_background};
pub use config::{Fault, SimulatorConfig, Throttle};
pub use fleet::{Expected, Fleet, FleetDevice, IntuneBehaviour};
pub use log_analytics::WorkspaceConfig;
pub use sample::sample_records;
pub use stats::SimulatorStats;

use faults::FaultPlan;
use graph::RequestIds;
use paging::{PagingRules, RecordStore};
use random::SecretSource;
use stats::StatsCell;
use summary::DailySummary;
use throttle::Throttler;
use token::TokenIssuer;

/// How long shutdown waits for requests in flight before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// What every handler shares.
struct Shared {
    /// `http://127.0.0.1:PORT`, the base of every link served.
    base_url: String,
    records: RecordStore,
    paging: PagingRules,
    tokens: TokenIssuer,
    throttle: Option<Throttler>,
    faults: FaultPlan,
    response_delay: Duration,
    refuse_or: bool,
    summary: DailySummary,
    secrets: SecretSource,
    stats: StatsCell,
    workspace: WorkspaceConfig,
    audit_rows: Vec<log_analytics::AuditRow>,
    fleet: Option<Fleet>,
    intune: IntuneBehaviour,
}

/// A running simulator on the current tokio runtime. Dropping it stops the server too;
/// [`Simulator::shutdown`] also waits for it to stop.
pub struct Simulator {
    shared: Arc<Shared>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl Simulator {
    /// Binds 127.0.0.1 on an ephemeral port and serves on the current tokio runtime. Refuses
    /// (`InvalidInput`) a configuration that contradicts itself.
    pub async fn start(config: SimulatorConfig) -> io::Result<Simulator> {
        config.validate()?;
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let audit_rows = log_analytics::audit_rows(&config.records, &config.tenant_id);
        let shared = Arc::new(Shared {
            base_url,
            summary: DailySummary::new(
                &config.records,
                &config.summary_disagreements,
                config.summary_numbers_as_strings,
                config.summary_page_days,
            ),
            records: RecordStore::new(config.records),
            paging: PagingRules {
                max_page_size: config.max_page_size,
                empty_page_every: config.empty_page_every,
            },
            tokens: TokenIssuer::new(
                &config.tenant_id,
                &config.client_id,
                &config.client_secret,
                config.token_lifetime,
            ),
            throttle: config.throttle.map(Throttler::new),
            faults: FaultPlan::new(config.fault_rate, config.faults, config.seed),
            response_delay: config.response_delay,
            refuse_or: config.refuse_or,
            secrets: SecretSource::new(),
            stats: StatsCell::default(),
            workspace: config.workspace,
            audit_rows,
            fleet: config.fleet,
            intune: config.intune,
        });
        let router = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token::token_endpoint))
            .route(
                "/v1.0/auditLogs/directoryAudits",
                get(audits::directory_audits),
            )
            .route(
                "/beta/auditLogs/directoryAudits",
                get(audits::directory_audits),
            )
            .route(summary::PATH, get(summary::daily_summary))
            .route(
                "/v1/workspaces/{workspace}/query",
                post(log_analytics::query),
            )
            .route("/v1.0/devices", get(intune::get))
            .route("/v1.0/deviceManagement/managedDevices", get(intune::get))
            .route(
                "/v1.0/deviceManagement/deviceConfigurations",
                get(intune::get),
            )
            .route(
                "/v1.0/deviceManagement/deviceConfigurations/{id}",
                get(intune::get),
            )
            .route(
                "/v1.0/deviceManagement/deviceConfigurations/{id}/deviceStatuses",
                get(intune::get),
            )
            .route(
                "/beta/deviceManagement/configurationPolicies",
                get(intune::get),
            )
            .route(
                "/beta/deviceManagement/configurationPolicies/{id}/settings",
                get(intune::get),
            )
            .route(
                "/beta/deviceManagement/reports/getConfigurationPolicyDevicesReport",
                post(intune::report),
            )
            .fallback(not_found)
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, router).with_graceful_shutdown(async {
                // A send or a dropped sender both mean stop.
                let _ = stopped.await;
            });
            if let Err(err) = serving.await {
                tracing::warn!("simulator: server stopped: {err}");
            }
        });
        tracing::debug!("simulator: listening on {}", shared.base_url);
        Ok(Simulator {
            shared,
            stop,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`: both the Graph base URL and the authority host.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn stats(&self) -> SimulatorStats {
        self.shared.stats.snapshot()
    }

    /// Stops accepting connections and waits (at most a second) for requests in flight.
    pub async fn shutdown(self) {
        let Simulator {
            stop, mut server, ..
        } = self;
        let _ = stop.send(());
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut server)
            .await
            .is_err()
        {
            server.abort();
        }
    }
}

/// Any other path: a Graph-style 404 naming what was asked for.
async fn not_found(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let ids = RequestIds::new(&headers, &shared.secrets);
    graph::error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("The simulator serves no resource at '{}'.", uri.path()),
        &ids,
    )
}
