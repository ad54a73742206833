//! The simulator over real HTTP, as the fetcher will meet it: token flow, paging, filters,
//! throttling and every fault, each checked from the client's side. Durations are scaled down
//! (windows of 200 ms, lifetimes of a second) to keep the whole module fast.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};

use super::*;

const SSPR: &str = "Self-service Password Management";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const FILTER: &str = "loggedByService eq 'Self-service Password Management' and activityDateTime \
                      ge 2026-09-20T00:00:00Z and activityDateTime le 2026-11-05T00:00:00Z";

fn record(id: &str, time: &str, service: &str) -> Value {
    json!({
        "id": id,
        "category": "UserManagement",
        "correlationId": "00000000-0000-0000-0000-0000000000aa",
        "result": "success",
        "activityDisplayName": "Reset password (self-service)",
        "activityDateTime": time,
        "loggedByService": service,
        "additionalDetails": [],
    })
}

/// `count` SSPR records, one every 3 hours from 2026-09-21 on (ids `r000`...), every seventh
/// sharing its time with the one before, to exercise ties.
fn sspr_records(count: usize) -> Vec<Value> {
    let start = chrono::DateTime::parse_from_rfc3339("2026-09-21T00:00:00Z").unwrap();
    (0..count)
        .map(|index| {
            let step = if index % 7 == 6 { index - 1 } else { index };
            let time = start + chrono::Duration::hours(3 * step as i64);
            record(
                &format!("r{index:03}"),
                &time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                SSPR,
            )
        })
        .collect()
}

/// The ids a correct client ends up with: newest first, ties by id descending.
fn newest_first(records: &[Value]) -> Vec<String> {
    let mut keyed: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["activityDateTime"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    keyed.sort_by(|a, b| b.cmp(a));
    keyed.into_iter().map(|(_, id)| id).collect()
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn ids_of(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn graph_error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    let inner = &body["error"]["innerError"];
    assert!(
        inner["request-id"].is_string() && inner["date"].is_string(),
        "{body}"
    );
    body["error"]["code"].as_str().unwrap().to_owned()
}

/// A running simulator and the one HTTP client a test talks to it with.
struct Tenant {
    sim: Simulator,
    http: reqwest::Client,
}

impl Tenant {
    async fn start(config: SimulatorConfig) -> Tenant {
        Tenant {
            sim: Simulator::start(config).await.unwrap(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    fn audits(&self, query: &str) -> String {
        format!("{}/v1.0/auditLogs/directoryAudits?{query}", self.sim.url())
    }

    /// Posts a token request as azure_identity does.
    async fn request_token(
        &self,
        tenant: &str,
        client_id: &str,
        secret: &str,
        scope: &str,
    ) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("client_secret", secret)
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", scope)
            .finish();
        self.http
            .post(format!("{}/{tenant}/oauth2/v2.0/token", self.sim.url()))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A token for the default app registration.
    async fn token(&self) -> String {
        let config = SimulatorConfig::default();
        let response = self
            .request_token(
                &config.tenant_id,
                &config.client_id,
                &config.client_secret,
                GRAPH_SCOPE,
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, url: &str, token: &str) -> reqwest::Response {
        self.http.get(url).bearer_auth(token).send().await.unwrap()
    }

    async fn page(&self, url: &str, token: &str) -> Value {
        let response = self.get(url, token).await;
        assert_eq!(response.status(), 200, "{url}");
        response.json().await.unwrap()
    }

    /// Follows nextLinks from `url` to the end, returning the ids of every page in order.
    async fn fetch_pages(&self, url: &str, token: &str) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut next = Some(url.to_owned());
        while let Some(url) = next {
            let page = self.page(&url, token).await;
            pages.push(ids_of(&page));
            next = page["@odata.nextLink"].as_str().map(str::to_owned);
            assert!(pages.len() < 1000, "paging does not end");
        }
        pages
    }
}

#[tokio::test]
async fn paging_serves_every_record_once_newest_first() {
    let records = sspr_records(250);
    let tenant = Tenant::start(SimulatorConfig {
        records: records.clone(),
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let first = tenant.audits(&format!("$filter={}&$top=40", encode(FILTER)));
    let pages = tenant.fetch_pages(&first, &token).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [40, 40, 40, 40, 40, 40, 10]);
    assert_eq!(pages.concat(), newest_first(&records));

    // The page itself: context, records verbatim, a nextLink that keeps filter and $top, and
    // an opaque skiptoken that serves the same page however often it is followed.
    let page = tenant.page(&first, &token).await;
    let url = tenant.sim.url();
    assert_eq!(
        page["@odata.context"],
        format!("{url}/v1.0/$metadata#auditLogs/directoryAudits")
    );
    assert_eq!(page["value"][0], records[249]);
    let next = page["@odata.nextLink"].as_str().unwrap();
    assert!(next.starts_with(&format!("{url}/v1.0/auditLogs/directoryAudits?$filter=")));
    assert!(next.contains("&$top=40&$skiptoken="), "{next}");
    let skiptoken = next.rsplit("$skiptoken=").next().unwrap();
    assert!(
        skiptoken.parse::<u64>().is_err() && skiptoken.len() >= 32,
        "{skiptoken}"
    );
    let once = tenant.get(next, &token).await.text().await.unwrap();
    let twice = tenant.get(next, &token).await.text().await.unwrap();
    assert_eq!(once, twice);

    let stats = tenant.sim.stats();
    assert_eq!(stats.requests, 7 + 3);
    assert_eq!(stats.pages_served, 7 + 3);
    assert_eq!(stats.records_served, 250 + 40 + 40 + 40);
    tenant.sim.shutdown().await;
}

#[tokio::test]
async fn the_filter_selects_by_time_and_service() {
    let tenant = Tenant::start(SimulatorConfig {
        records: vec![
            record("before", "2026-09-19T23:59:59.9999999Z", SSPR),
            record("first-second", "2026-09-20T00:00:00Z", SSPR),
            record("inside", "2026-10-10T12:00:00.1234567+00:00", SSPR),
            record("core", "2026-10-10T12:00:00Z", "Core Directory"),
            record("last-second", "2026-11-05T00:00:00.000Z", SSPR),
            record("after", "2026-11-05T00:00:00.0000001Z", SSPR),
            json!({"id": "timeless", "loggedByService": SSPR}),
        ],
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let ids = async |filter: &str| {
        let url = tenant.audits(&format!("$filter={}", encode(filter)));
        tenant.fetch_pages(&url, &token).await.concat()
    };
    assert_eq!(ids(FILTER).await, ["last-second", "inside", "first-second"]);
    let strict =
        "activityDateTime gt 2026-09-20T00:00:00Z and activityDateTime lt 2026-11-05T00:00:00Z";
    assert_eq!(ids(strict).await, ["inside", "core"]);
    let exact = "activityDateTime eq 2026-10-10T12:00:00.1234567Z";
    assert_eq!(ids(exact).await, ["inside"]);
    // Without a filter, everything; the record without a time comes last.
    let all = tenant
        .fetch_pages(&tenant.audits(""), &token)
        .await
        .concat();
    assert_eq!(all.len(), 7);
    assert_eq!(all.last().map(String::as_str), Some("timeless"));

    for bad in [
        "category eq 'UserManagement'",
        "loggedByService eq 'a' or loggedByService eq 'b'",
        "activityDateTime ge yesterday",
    ] {
        let url = tenant.audits(&format!("$filter={}", encode(bad)));
        let response = tenant.get(&url, &token).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert_eq!(graph_error_code(response).await, "BadRequest");
    }
    assert_eq!(tenant.sim.stats().bad_requests, 3);
}

#[tokio::test]
async fn top_is_capped_and_defaults_to_100() {
    let records = sspr_records(150);
    let capped = Tenant::start(SimulatorConfig {
        records: records.clone(),
        max_page_size: 30,
        ..SimulatorConfig::default()
    })
    .await;
    let token = capped.token().await;
    let pages = capped.fetch_pages(&capped.audits("$top=999"), &token).await;
    assert_eq!(pages.len(), 5);
    assert!(pages.iter().all(|page| page.len() == 30));
    let page = capped.page(&capped.audits("$top=999"), &token).await;
    let next = page["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("$top=30&"), "{next}");

    let roomy = Tenant::start(SimulatorConfig {
        records,
        ..SimulatorConfig::default()
    })
    .await;
    let token = roomy.token().await;
    let pages = roomy.fetch_pages(&roomy.audits(""), &token).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 50]);
    let response = roomy.get(&roomy.audits("$top=0"), &token).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn every_nth_page_is_empty_but_links_on() {
    let records = sspr_records(10);
    let tenant = Tenant::start(SimulatorConfig {
        records: records.clone(),
        empty_page_every: 3,
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let pages = tenant.fetch_pages(&tenant.audits("$top=2"), &token).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 0, 2, 2, 0, 2]);
    assert_eq!(pages.concat(), newest_first(&records));
}

#[tokio::test]
async fn token_requests_are_granted_or_refused_like_entra() {
    let tenant = Tenant::start(SimulatorConfig {
        records: sspr_records(3),
        ..SimulatorConfig::default()
    })
    .await;
    let config = SimulatorConfig::default();
    let (tenant_id, client_id, secret) = (
        config.tenant_id.as_str(),
        config.client_id.as_str(),
        config.client_secret.as_str(),
    );

    let response = tenant
        .request_token(tenant_id, client_id, secret, GRAPH_SCOPE)
        .await;
    assert_eq!(response.status(), 200);
    let granted: Value = response.json().await.unwrap();
    assert_eq!(granted["token_type"], "Bearer");
    assert_eq!(granted["expires_in"], 3600);
    assert_eq!(granted["ext_expires_in"], 3600);
    let token = granted["access_token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 32);
    assert_ne!(tenant.token().await, token, "tokens must not repeat");

    let vault = "https://vault.azure.net/.default";
    for (tenant_id, client_id, secret, scope, status, error, code) in [
        (
            tenant_id,
            client_id,
            "wrong",
            GRAPH_SCOPE,
            401,
            "invalid_client",
            7000215,
        ),
        (
            "contoso.example",
            client_id,
            secret,
            GRAPH_SCOPE,
            400,
            "invalid_request",
            90002,
        ),
        (
            tenant_id,
            "someone-else",
            secret,
            GRAPH_SCOPE,
            400,
            "unauthorized_client",
            700016,
        ),
        (
            tenant_id,
            client_id,
            secret,
            vault,
            400,
            "invalid_scope",
            70011,
        ),
        (
            tenant_id,
            client_id,
            secret,
            "AuditLog.Read.All",
            400,
            "invalid_scope",
            1002012,
        ),
    ] {
        let response = tenant
            .request_token(tenant_id, client_id, secret, scope)
            .await;
        assert_eq!(response.status(), status, "AADSTS{code}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error);
        assert_eq!(body["error_codes"], json!([code]));
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.starts_with(&format!("AADSTS{code}: ")),
            "{description}"
        );
        for part in ["\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "] {
            assert!(description.contains(part), "{description}");
        }
        assert!(body["trace_id"].is_string() && body["correlation_id"].is_string());
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    // A live token works; missing and forged ones get Graph's 401 and its challenge.
    let url = tenant.audits("");
    assert_eq!(tenant.get(&url, &token).await.status(), 200);
    let anonymous = tenant.http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    assert_eq!(
        graph_error_code(anonymous).await,
        "InvalidAuthenticationToken"
    );
    assert_eq!(tenant.get(&url, "forged").await.status(), 401);

    let stats = tenant.sim.stats();
    assert_eq!(stats.tokens_issued, 2);
    assert_eq!(stats.auth_failures, 5 + 2);
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let lifetime = Duration::from_secs(1);
    let tenant = Tenant::start(SimulatorConfig {
        token_lifetime: lifetime,
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    // The token was issued before it arrived here, so it has expired by then.
    let expired_by = Instant::now() + lifetime;
    let url = tenant.audits("");
    assert_eq!(tenant.get(&url, &token).await.status(), 200);
    tokio::time::sleep_until(expired_by.into()).await;
    let expired = tenant.get(&url, &token).await;
    assert_eq!(expired.status(), 401);
    let body: Value = expired.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(
        body["error"]["message"],
        "Access token has expired or is not yet valid."
    );
}

#[tokio::test]
async fn a_burst_is_throttled_with_a_fractional_retry_after() {
    let window = Duration::from_secs(1);
    let tenant = Tenant::start(SimulatorConfig {
        records: sspr_records(5),
        throttle: Some(Throttle {
            requests: 3,
            window,
        }),
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let url = tenant.audits("");
    let burst: Vec<_> = (0..5)
        .map(|_| tokio::spawn(tenant.http.get(&url).bearer_auth(&token).send()))
        .collect();
    let mut statuses = Vec::new();
    let mut longest_wait: f64 = 0.0;
    for request in burst {
        let response = request.await.unwrap().unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let header = response.headers()[RETRY_AFTER].to_str().unwrap().to_owned();
            assert!(header.contains('.'), "{header}");
            let seconds: f64 = header.parse().unwrap();
            assert!((0.05..=1.0).contains(&seconds), "{header}");
            longest_wait = longest_wait.max(seconds);
            assert!(response.headers().contains_key("request-id"));
            assert_eq!(graph_error_code(response).await, "TooManyRequests");
        }
    }
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let stats = tenant.sim.stats();
    assert_eq!((stats.throttled, stats.max_requests_in_window), (2, 3));

    // Waiting what the 429s said lets the next request through.
    tokio::time::sleep(Duration::from_secs_f64(longest_wait)).await;
    assert_eq!(tenant.get(&url, &token).await.status(), 200);
}

#[tokio::test]
async fn a_paced_client_stays_under_the_limit() {
    let window = Duration::from_millis(200);
    let tenant = Tenant::start(SimulatorConfig {
        records: sspr_records(5),
        throttle: Some(Throttle {
            requests: 2,
            window,
        }),
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let url = tenant.audits("");
    // Two requests per window at most, with room for scheduling noise on a busy machine.
    let pace = window * 3 / 4;
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(tenant.get(&url, &token).await.status(), 200);
        tokio::time::sleep(pace.saturating_sub(started.elapsed())).await;
    }
    let stats = tenant.sim.stats();
    assert_eq!(stats.throttled, 0);
    assert!((1..=2).contains(&stats.max_requests_in_window), "{stats:?}");
}

/// Requests the first page from a simulator failing with `fault` half the time, until a
/// failed request is followed by a good one; returns the failed response (or the error in place
/// of one) after checking that the good one served exactly the right records.
async fn fault_then_success(fault: Fault) -> Result<reqwest::Response, reqwest::Error> {
    let records = sspr_records(30);
    let tenant = Tenant::start(SimulatorConfig {
        records: records.clone(),
        fault_rate: 0.5,
        faults: vec![fault],
        seed: 7,
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let url = tenant.audits("$top=10");
    let mut failed = None;
    for _ in 0..40 {
        let before = tenant.sim.stats().faults_injected;
        let sent = tenant.http.get(&url).bearer_auth(&token).send().await;
        if tenant.sim.stats().faults_injected > before {
            failed = Some(sent);
            continue;
        }
        if let Some(failed) = failed {
            let page: Value = sent.unwrap().json().await.unwrap();
            assert_eq!(ids_of(&page), newest_first(&records)[..10], "{fault:?}");
            return failed;
        }
    }
    panic!("{fault:?}: no fault followed by a success in 40 requests");
}

#[tokio::test]
async fn status_faults_carry_graph_errors() {
    for (fault, status, code, retry_after) in [
        (Fault::Status500, 500, "generalException", None),
        (Fault::Status502, 502, "UnknownError", None),
        (
            Fault::Status503 { retry_after: true },
            503,
            "serviceNotAvailable",
            Some("1.5"),
        ),
        (
            Fault::Status503 { retry_after: false },
            503,
            "serviceNotAvailable",
            None,
        ),
        (Fault::Status504, 504, "timeout", None),
        (Fault::Unauthorized, 401, "InvalidAuthenticationToken", None),
    ] {
        let response = fault_then_success(fault).await.unwrap();
        assert_eq!(response.status(), status, "{fault:?}");
        assert_eq!(
            response
                .headers()
                .get(RETRY_AFTER)
                .map(|v| v.to_str().unwrap()),
            retry_after,
            "{fault:?}"
        );
        assert_eq!(graph_error_code(response).await, code, "{fault:?}");
    }
}

#[tokio::test]
async fn broken_responses_break_the_way_networks_do() {
    let truncated = fault_then_success(Fault::TruncatedBody).await.unwrap();
    assert_eq!(truncated.status(), 200);
    assert!(
        truncated.bytes().await.is_err(),
        "a truncated body must fail to read"
    );

    let reset = fault_then_success(Fault::ConnectionReset).await;
    assert!(reset.is_err(), "a reset must give no response");

    let html = fault_then_success(Fault::HtmlErrorPage).await.unwrap();
    assert_eq!(html.status(), 200);
    assert!(
        html.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.text().await.unwrap().starts_with("<!DOCTYPE html>"));
}

#[tokio::test]
async fn a_slow_response_is_late_but_whole() {
    let delay = Duration::from_millis(150);
    let tenant = Tenant::start(SimulatorConfig {
        records: sspr_records(3),
        fault_rate: 1.0,
        faults: vec![Fault::SlowResponse(delay)],
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let started = Instant::now();
    let page = tenant.page(&tenant.audits(""), &token).await;
    assert!(started.elapsed() >= delay);
    assert_eq!(ids_of(&page).len(), 3);
    let stats = tenant.sim.stats();
    assert_eq!(
        (
            stats.faults_injected,
            stats.pages_served,
            stats.records_served
        ),
        (1, 1, 3)
    );
}

#[tokio::test]
async fn the_secret_never_leaves_the_simulator() {
    let secret = "s3cr3t-Value~with.chars";
    let config = SimulatorConfig {
        records: sspr_records(3),
        client_secret: secret.to_owned(),
        ..SimulatorConfig::default()
    };
    assert!(!format!("{config:?}").contains(secret));
    let tenant = Tenant::start(config.clone()).await;
    let mut seen = Vec::new();
    for (client_id, sent_secret, scope) in [
        ("sim-client", secret, GRAPH_SCOPE),
        ("sim-client", "a-wrong-secret", GRAPH_SCOPE),
        ("other", secret, GRAPH_SCOPE),
        ("sim-client", secret, "User.Read"),
    ] {
        let response = tenant
            .request_token(&config.tenant_id, client_id, sent_secret, scope)
            .await;
        seen.push(format!("{:?}", response.headers()));
        let body = response.text().await.unwrap();
        assert!(!body.contains("a-wrong-secret"), "{body}");
        seen.push(body);
    }
    let granted: Value = serde_json::from_str(&seen[1]).unwrap();
    let token = granted["access_token"].as_str().unwrap();
    for url in [tenant.audits("$top=1"), tenant.audits("$filter=x")] {
        for bearer in [token, secret] {
            let response = tenant.get(&url, bearer).await;
            seen.push(format!("{:?}", response.headers()));
            seen.push(response.text().await.unwrap());
        }
    }
    seen.push(format!("{:?}", tenant.sim.stats()));
    for text in &seen {
        assert!(!text.contains(secret), "the secret leaked: {text}");
    }
}

#[tokio::test]
async fn every_graph_response_carries_request_ids() {
    let tenant = Tenant::start(SimulatorConfig {
        records: sspr_records(3),
        throttle: Some(Throttle {
            requests: 1,
            window: Duration::from_secs(60),
        }),
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let url = tenant.audits("");
    let http = &tenant.http;
    let requests = [
        http.get(&url)
            .bearer_auth(&token)
            .header("client-request-id", "mine-1"),
        http.get(&url).bearer_auth(&token),
        http.get(&url),
        http.get(format!("{}/v1.0/users", tenant.sim.url())),
    ];
    let mut statuses = Vec::new();
    for request in requests {
        let response = request.send().await.unwrap();
        statuses.push(response.status().as_u16());
        let headers = response.headers();
        let request_id = headers["request-id"].to_str().unwrap();
        assert_eq!(request_id.len(), 36);
        let client_request_id = headers["client-request-id"].to_str().unwrap();
        if statuses.len() == 1 {
            assert_eq!(client_request_id, "mine-1");
        } else {
            assert_eq!(client_request_id, request_id);
        }
    }
    assert_eq!(statuses, [200, 429, 401, 404]);
}

#[tokio::test]
async fn invalid_skiptokens_are_refused() {
    let tenant = Tenant::start(SimulatorConfig {
        records: sspr_records(30),
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let page = tenant.page(&tenant.audits("$top=5"), &token).await;
    let next = page["@odata.nextLink"].as_str().unwrap();
    let skiptoken = next.rsplit("$skiptoken=").next().unwrap();
    let last = if skiptoken.ends_with('0') { "1" } else { "0" };
    let altered = format!("{}{last}", &skiptoken[..skiptoken.len() - 1]);
    for query in [
        format!("$top=5&$skiptoken={altered}"),
        "$top=5&$skiptoken=10".to_owned(),
        // A real token, but for another filter.
        format!("$filter={}&$top=5&$skiptoken={skiptoken}", encode(FILTER)),
    ] {
        let response = tenant.get(&tenant.audits(&query), &token).await;
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(graph_error_code(response).await, "BadRequest");
    }
    assert_eq!(tenant.get(next, &token).await.status(), 200);
}

#[tokio::test]
async fn beta_serves_the_same_records_with_beta_links() {
    let tenant = Tenant::start(SimulatorConfig {
        records: sspr_records(3),
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let url = tenant.sim.url();
    let page = tenant
        .page(
            &format!("{url}/beta/auditLogs/directoryAudits?$top=2"),
            &token,
        )
        .await;
    assert_eq!(
        page["@odata.context"],
        format!("{url}/beta/$metadata#auditLogs/directoryAudits")
    );
    let next = page["@odata.nextLink"].as_str().unwrap();
    assert!(next.starts_with(&format!("{url}/beta/auditLogs/directoryAudits?")));
}

#[tokio::test]
async fn the_response_delay_slows_every_answer() {
    let delay = Duration::from_millis(100);
    let tenant = Tenant::start(SimulatorConfig {
        response_delay: delay,
        ..SimulatorConfig::default()
    })
    .await;
    let token = tenant.token().await;
    let started = Instant::now();
    tenant.page(&tenant.audits(""), &token).await;
    assert!(started.elapsed() >= delay);
}

#[tokio::test]
async fn contradictory_settings_are_refused() {
    for config in [
        SimulatorConfig {
            fault_rate: 1.5,
            faults: vec![Fault::Status500],
            ..SimulatorConfig::default()
        },
        SimulatorConfig {
            fault_rate: 0.1,
            ..SimulatorConfig::default()
        },
        SimulatorConfig {
            max_page_size: 0,
            ..SimulatorConfig::default()
        },
        SimulatorConfig {
            empty_page_every: 1,
            ..SimulatorConfig::default()
        },
        SimulatorConfig {
            throttle: Some(Throttle {
                requests: 0,
                window: Duration::from_secs(1),
            }),
            ..SimulatorConfig::default()
        },
    ] {
        let refused = Simulator::start(config.clone()).await.err();
        assert_eq!(
            refused.map(|err| err.kind()),
            Some(io::ErrorKind::InvalidInput),
            "{config:?}"
        );
    }
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let tenant = Tenant::start(SimulatorConfig::default()).await;
    let url = tenant.audits("");
    assert_eq!(tenant.http.get(&url).send().await.unwrap().status(), 401);
    tenant.sim.shutdown().await;
    assert!(tenant.http.get(&url).send().await.is_err());
}

#[test]
fn a_background_simulator_serves_synchronous_callers_and_stops_on_drop() {
    let sim = start_in_background(SimulatorConfig {
        records: sspr_records(3),
        ..SimulatorConfig::default()
    })
    .unwrap();
    let url = format!("{}/v1.0/auditLogs/directoryAudits", sim.url());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let status = runtime.block_on(async { http.get(&url).send().await.unwrap().status() });
    assert_eq!(status, 401);
    assert_eq!(sim.stats().auth_failures, 1);
    drop(sim);
    assert!(runtime.block_on(http.get(&url).send()).is_err());
}
