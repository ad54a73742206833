//! What the simulator has done so far, counted as it happens, for tests and the demo's summary.

use std::sync::Mutex;

/// Counters since start. directoryAudits requests split into exactly one of: a page (200, also
/// after a [`Fault::SlowResponse`](super::Fault::SlowResponse)), a 429, another fault, a 401
/// for a missing, unknown or expired token, or a 400 for a bad query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimulatorStats {
    /// directoryAudits requests received, whatever their outcome.
    pub requests: u64,
    /// Pages answered 200 with a complete JSON body (empty pages included).
    pub pages_served: u64,
    /// Records in those pages.
    pub records_served: u64,
    /// Requests answered 429.
    pub throttled: u64,
    /// Requests answered with a fault (a slow response included, though its page also counts).
    pub faults_injected: u64,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Refusals: token requests the token endpoint refused, and directoryAudits requests with a
    /// missing, unknown or expired token (an injected [`Fault::Unauthorized`](super::Fault::Unauthorized)
    /// counts as a fault instead).
    pub auth_failures: u64,
    /// directoryAudits requests refused 400 (unsupported `$filter`, bad `$top`, invalid `$skiptoken`).
    pub bad_requests: u64,
    /// The most directoryAudits requests accepted by the throttle (not answered 429) inside any
    /// one throttle window; 0 without a throttle. A client that kept under the limit shows at
    /// most `Throttle::requests` here.
    pub max_requests_in_window: u64,
    /// Log Analytics queries received, whatever their outcome.
    pub queries: u64,
    /// AuditLogs rows in the answers.
    pub rows_served: u64,
    /// Answers cut at the row limit and marked `PartialError`.
    pub partial_answers: u64,
}

/// The live counters, shared by the handlers.
#[derive(Default)]
pub(super) struct StatsCell(Mutex<SimulatorStats>);

impl StatsCell {
    pub fn update(&self, change: impl FnOnce(&mut SimulatorStats)) {
        change(
            &mut self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
    }

    pub fn snapshot(&self) -> SimulatorStats {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}
