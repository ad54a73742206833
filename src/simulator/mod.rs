//! A simulated Entra tenant over real HTTP on 127.0.0.1: Entra's token endpoint and Graph's
//! `auditLogs/directoryAudits`, with Graph's paging, throttling and faults. `ssprlens demo` uses
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
//! - `throttle`: Graph's sliding window per app with a fractional `Retry-After`;
//! - `faults`: 5xx, truncated bodies, resets, HTML error pages, slow answers, spurious 401s;
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
mod config;
mod faults;
mod fleet;
mod graph;
mod intune;
mod paging;
mod query;
mod random;
mod stats;
mod throttle;
mod token;

#[cfg(test)]
mod tests;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Fault, SimulatorConfig, Throttle};
pub use fleet::{Expected, Fleet, FleetDevice, IntuneBehaviour};
pub use stats::SimulatorStats;

use faults::FaultPlan;
use graph::RequestIds;
use paging::{PagingRules, RecordStore};
use random::SecretSource;
use stats::StatsCell;
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
    secrets: SecretSource,
    stats: StatsCell,
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
        let shared = Arc::new(Shared {
            base_url,
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
            secrets: SecretSource::new(),
            stats: StatsCell::default(),
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

/// A simulator on its own thread with its own tokio runtime, for tests that drive the real
/// binary from synchronous code. Stops when dropped.
pub struct BackgroundSimulator {
    url: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

/// Starts a [`Simulator`] on a new thread running a current-thread tokio runtime.
pub fn start_in_background(config: SimulatorConfig) -> io::Result<BackgroundSimulator> {
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = thread::Builder::new()
        .name("graph-simulator".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    let _ = started_tx.send(Err(err));
                    return;
                }
            };
            runtime.block_on(async move {
                match Simulator::start(config).await {
                    Ok(simulator) => {
                        let _ = started_tx.send(Ok(Arc::clone(&simulator.shared)));
                        let _ = stopped.await;
                        simulator.shutdown().await;
                    }
                    Err(err) => {
                        let _ = started_tx.send(Err(err));
                    }
                }
            });
        })?;
    let started = started_rx
        .recv()
        .map_err(|_| io::Error::other("the simulator thread ended before starting"))?;
    match started {
        Ok(shared) => Ok(BackgroundSimulator {
            url: shared.base_url.clone(),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }),
        Err(err) => {
            let _ = thread.join();
            Err(err)
        }
    }
}

impl BackgroundSimulator {
    /// `http://127.0.0.1:PORT`: both the Graph base URL and the authority host.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn stats(&self) -> SimulatorStats {
        self.shared.stats.snapshot()
    }
}

impl Drop for BackgroundSimulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
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
