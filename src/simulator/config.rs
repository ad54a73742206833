//! What a simulated tenant looks like and how badly its Graph behaves: the records it serves,
//! the one app registration it knows, token lifetime, throttling, faults and paging quirks.

use std::fmt;
use std::io;
use std::time::Duration;

use super::WorkspaceConfig;
use super::fleet::{Fleet, IntuneBehaviour};

/// Everything a [`Simulator`](super::Simulator) serves and how. `Default` is a well-behaved
/// tenant with no records: set `records`, then only the misbehaviour a test is about.
#[derive(Clone)]
pub struct SimulatorConfig {
    /// directoryAudit records served (Graph JSON objects, served verbatim).
    pub records: Vec<serde_json::Value>,
    /// The only tenant the token endpoint knows (compared ignoring ASCII case, like a GUID).
    pub tenant_id: String,
    /// The only app registration: its client (application) id ...
    pub client_id: String,
    /// ... and its client secret. Never echoed, logged or counted anywhere.
    pub client_secret: String,
    /// Lifetime of issued tokens: `expires_in` is its whole seconds, and a token is refused
    /// (401) from `token_lifetime` after it was issued. (azure_identity renews tokens within
    /// 300 s of expiry, so shorter lifetimes make it ask for a new token every time.)
    pub token_lifetime: Duration,
    /// Server-side limit on directoryAudits requests per app; beyond it 429.
    pub throttle: Option<Throttle>,
    /// Fraction (0..=1) of directoryAudits requests answered with a fault instead, chosen by a
    /// generator seeded with `seed`.
    pub fault_rate: f64,
    /// Which faults to draw from (uniformly); must not be empty when `fault_rate` > 0.
    pub faults: Vec<Fault>,
    /// Seed of the fault generator: the same seed and the same request order give the same faults.
    pub seed: u64,
    /// Largest page served; `$top` above it is capped (Graph caps too).
    pub max_page_size: usize,
    /// Every n-th page of a paging chain is served empty (`value: []`) but still with a nextLink
    /// (0 = never; 1 is refused, as it would never make progress).
    pub empty_page_every: usize,
    /// Delay before every directoryAudits response, to make a fetch slow enough to kill mid-way.
    pub response_delay: Duration,
    /// Answer 400 to a `$filter` that joins clauses with `or`, as some Graph deployments do.
    pub refuse_or: bool,
    /// Days whose daily summary numbers are moved (self-service, admin added): a disagreement
    /// with the records, for `reconcile` to find.
    pub summary_disagreements: Vec<(chrono::NaiveDate, i64, i64)>,
    /// The daily summary's counts as JSON strings (Graph's Int64 may come so).
    pub summary_numbers_as_strings: bool,
    /// Days per page of the daily summary.
    pub summary_page_days: usize,
    /// The Log Analytics workspace holding the same records.
    pub workspace: WorkspaceConfig,
    /// The devices and Intune policies served (`None`: those endpoints answer 404).
    pub fleet: Option<Fleet>,
    /// How Intune answers.
    pub intune: IntuneBehaviour,
}

/// At most `requests` directoryAudits requests per sliding `window` per client id. Graph's
/// identity and access reports allow 5 per 10 seconds per app per tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttle {
    pub requests: u32,
    pub window: Duration,
}

/// A way a directoryAudits request can go wrong besides throttling. Each is one response (or
/// its absence): the request after it is answered as if the fault had never happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 500 with a Graph error body (`generalException`), no `Retry-After`.
    Status500,
    /// 502 with a Graph error body (`UnknownError`), no `Retry-After`.
    Status502,
    /// 503 with a Graph error body (`serviceNotAvailable`), with `Retry-After: 1.5` or without.
    Status503 { retry_after: bool },
    /// 504 with a Graph error body (`timeout`), no `Retry-After`.
    Status504,
    /// 200 whose `Content-Length` promises the whole page, but the connection closes halfway.
    TruncatedBody,
    /// The normal answer, after this extra delay.
    SlowResponse(Duration),
    /// The connection is closed without any response.
    ConnectionReset,
    /// 200 with a `text/html` error page from a gateway instead of JSON.
    HtmlErrorPage,
    /// 401 `InvalidAuthenticationToken` although the token is valid (it stays valid).
    Unauthorized,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            records: Vec::new(),
            tenant_id: "00000000-0000-0000-0000-000000000001".to_owned(),
            client_id: "sim-client".to_owned(),
            client_secret: "sim-secret".to_owned(),
            token_lifetime: Duration::from_secs(3600),
            throttle: None,
            fault_rate: 0.0,
            faults: Vec::new(),
            seed: 0,
            max_page_size: 1000,
            empty_page_every: 0,
            response_delay: Duration::ZERO,
            refuse_or: false,
            summary_disagreements: Vec::new(),
            summary_numbers_as_strings: false,
            summary_page_days: 7,
            workspace: WorkspaceConfig::default(),
            fleet: None,
            intune: IntuneBehaviour::default(),
        }
    }
}

/// The secret is redacted and the records are counted, not printed.
impl fmt::Debug for SimulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("SimulatorConfig")
            .field("records", &self.records.len())
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("token_lifetime", &self.token_lifetime)
            .field("throttle", &self.throttle)
            .field("fault_rate", &self.fault_rate)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("max_page_size", &self.max_page_size)
            .field("empty_page_every", &self.empty_page_every)
            .field("response_delay", &self.response_delay)
            .field("refuse_or", &self.refuse_or)
            .field("summary_disagreements", &self.summary_disagreements)
            .field(
                "summary_numbers_as_strings",
                &self.summary_numbers_as_strings,
            )
            .field("summary_page_days", &self.summary_page_days)
            .field("workspace", &self.workspace)
            .field(
                "fleet",
                &self.fleet.as_ref().map(|fleet| fleet.devices.len()),
            )
            .field("intune", &self.intune)
            .finish()
    }
}

impl SimulatorConfig {
    /// Refuses settings that would make the simulator hang or contradict itself.
    pub(super) fn validate(&self) -> io::Result<()> {
        let invalid = |reason: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, reason));
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return invalid("fault_rate must lie between 0 and 1");
        }
        if self.fault_rate > 0.0 && self.faults.is_empty() {
            return invalid("fault_rate is above 0 but no faults are listed");
        }
        if self.max_page_size == 0 {
            return invalid("max_page_size must be at least 1");
        }
        if self.empty_page_every == 1 {
            return invalid("empty_page_every = 1 would serve nothing but empty pages");
        }
        if self
            .throttle
            .is_some_and(|t| t.requests == 0 || t.window.is_zero())
        {
            return invalid("a throttle needs at least 1 request per non-zero window");
        }
        if self.workspace.row_limit == 0 {
            return invalid("the workspace's row_limit must be at least 1");
        }
        if self.client_secret.is_empty() {
            return invalid("client_secret must not be empty");
        }
        Ok(())
    }
}
