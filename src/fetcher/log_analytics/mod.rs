//! The Log Analytics side of the fetcher: Entra's audit logs as a workspace keeps them (the
//! `AuditLogs` table, often Microsoft Sentinel's), read through the Azure Monitor Logs query API.
//!
//! - `kql`: the query (one half-open window `[start, end)` on `TimeGenerated`, the same range as
//!   `timespan`), the day windows of a fetch, and the client-side check of what was selected;
//! - `answer`: a query's JSON answer → one JSON object per row, cells mapped by the `columns`
//!   list, and whether the answer is partial;
//! - `client`: one query through the limiter, the token source and the retry policy the Graph
//!   fetcher uses (`graph::auth`, `graph::throttle`, `graph::retry`), within one budget.
//!
//! There is no paging: a window whose answer is partial (`PartialError`, or a result at the row
//! limit) is never stored; the caller splits it and asks again.

pub mod answer;
pub mod client;
pub mod kql;

use std::time::Duration;

use url::Url;

use crate::fetcher::graph::throttle::RateLimit;

/// The service allows 200 requests per 30 s per caller; one a second leaves room for others.
pub const LOG_ANALYTICS_RATE: RateLimit = RateLimit {
    requests: 1,
    window: Duration::from_secs(1),
};

/// What to check when the workspace refuses us; printed under authorisation errors.
pub const LOGS_AUTH_HINT: &str = "the app needs the API permission Log Analytics API › Data.Read \
    (application, with admin consent) and a reader role on the workspace (Log Analytics Reader, \
    Microsoft Sentinel Reader, or Reader); a new role assignment can take up to an hour to apply";

/// The token scope for a Logs query endpoint: the national clouds' own hosts, else the public
/// cloud's (also behind proxies and simulators).
pub fn logs_scope(logs_url: &Url) -> String {
    const NATIONAL: [&str; 2] = ["api.loganalytics.us", "api.loganalytics.azure.cn"];
    match logs_url.host_str() {
        Some(host) if NATIONAL.contains(&host) => format!("https://{host}/.default"),
        _ => "https://api.loganalytics.io/.default".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_the_cloud() {
        let scope = |url: &str| logs_scope(&Url::parse(url).unwrap());
        assert_eq!(
            scope("https://api.loganalytics.azure.com"),
            "https://api.loganalytics.io/.default"
        );
        assert_eq!(
            scope("http://127.0.0.1:9"),
            "https://api.loganalytics.io/.default"
        );
        assert_eq!(
            scope("https://api.loganalytics.us"),
            "https://api.loganalytics.us/.default"
        );
    }
}
