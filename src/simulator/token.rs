//! Entra's token endpoint for the client credentials grant, exactly as azure_identity's
//! `ClientSecretCredential` calls it: `POST /{tenant}/oauth2/v2.0/token` with the form fields
//! `client_id`, `client_secret`, `grant_type=client_credentials` and
//! `scope=https://graph.microsoft.com/.default`; and the tokens it issued, which the Graph
//! side checks.
//!
//! Success is `{"token_type":"Bearer","expires_in":N,"ext_expires_in":N,"access_token":...}`
//! with integer seconds (azure_identity parses `expires_in` as an integer). Refusals carry
//! Entra's error object (`error`, `error_description` ending in trace id, correlation id and
//! timestamp, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`) with the
//! AADSTS code Entra uses for the same mistake: unknown tenant 90002, missing parameter 900144,
//! unsupported grant 70003, unknown client 700016, a scope without `/.default` 1002012, a
//! scope for another resource 70011, no secret 7000218, wrong secret 7000215 (the only 401).
//!
//! The configured secret is kept only as its SHA-256 digest; tokens are 256 unpredictable bits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::Shared;
use super::random::SecretSource;

/// The resources whose `/.default` scope the client may ask for: Microsoft Graph, by URI or
/// by its well-known application id, and the Log Analytics API.
const GRAPH_RESOURCES: [&str; 3] = [
    "https://graph.microsoft.com",
    "00000003-0000-0000-c000-000000000000",
    "https://api.loganalytics.io",
];

/// The one app registration of the simulated tenant, and the tokens issued to it.
pub(super) struct TokenIssuer {
    tenant_id: String,
    client_id: String,
    secret_digest: [u8; 32],
    lifetime: Duration,
    issued: Mutex<HashMap<String, IssuedToken>>,
}

struct IssuedToken {
    client_id: String,
    /// `None` when the lifetime reaches past what `Instant` can hold.
    expires_at: Option<Instant>,
}

/// What the Graph side makes of a request's `Authorization` header.
pub(super) enum TokenCheck {
    /// A live token issued to this client id.
    Valid {
        client_id: String,
    },
    Missing,
    Unknown,
    Expired,
}

/// A refusal, in Entra's terms.
struct Refusal {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

impl TokenIssuer {
    pub fn new(tenant_id: &str, client_id: &str, client_secret: &str, lifetime: Duration) -> Self {
        TokenIssuer {
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            secret_digest: Sha256::digest(client_secret.as_bytes()).into(),
            lifetime,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// Checks a `Bearer` token at `now`.
    pub fn check(&self, headers: &HeaderMap, now: Instant) -> TokenCheck {
        let Some(token) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
        else {
            return TokenCheck::Missing;
        };
        match self.lock().get(token) {
            None => TokenCheck::Unknown,
            Some(issued) if issued.expires_at.is_some_and(|end| now >= end) => TokenCheck::Expired,
            Some(issued) => TokenCheck::Valid {
                client_id: issued.client_id.clone(),
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, IssuedToken>> {
        self.issued
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Decides on a token request for `tenant` with these form fields.
    fn grant(&self, tenant: &str, form: &HashMap<String, String>) -> Result<(), Refusal> {
        if !tenant.eq_ignore_ascii_case(&self.tenant_id) {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90002,
                format!(
                    "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                     and are signing into the correct cloud. Check with your subscription \
                     administrator, this may happen if there are no active subscriptions for the tenant."
                ),
            ));
        }
        let field = |name: &'static str| {
            form.get(name)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| Refusal::missing(name))
        };
        let grant_type = field("grant_type")?;
        if grant_type != "client_credentials" {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{grant_type}'."),
            ));
        }
        let client_id = field("client_id")?;
        if client_id != &self.client_id {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory \
                     '{tenant}'. This can happen if the application has not been installed by the \
                     administrator of the tenant or consented to by any user in the tenant. You \
                     may have sent your authentication request to the wrong tenant."
                ),
            ));
        }
        let scope = field("scope")?;
        check_scope(scope)?;
        let Some(secret) = form.get("client_secret").filter(|value| !value.is_empty()) else {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or \
                 'client_secret'."
                    .to_owned(),
            ));
        };
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        if digest != self.secret_digest {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request \
                     is the client secret value, not the client secret ID, for a secret added to \
                     app '{}'.",
                    self.client_id
                ),
            ));
        }
        Ok(())
    }

    /// Issues a token for the configured client at `now`.
    fn issue(&self, secrets: &SecretSource, now: Instant) -> String {
        let token = secrets.token();
        let mut issued = self.lock();
        issued.retain(|_, token| token.expires_at.is_none_or(|end| now < end));
        issued.insert(
            token.clone(),
            IssuedToken {
                client_id: self.client_id.clone(),
                expires_at: now.checked_add(self.lifetime),
            },
        );
        token
    }
}

/// Client credential flows take exactly one scope, `<resource>/.default`, here Graph's.
fn check_scope(scope: &str) -> Result<(), Refusal> {
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if let Some(bad) = scopes.iter().find(|scope| !scope.ends_with("/.default")) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {bad} is not valid. Client credential flows must \
                 have a scope value with /.default suffixed to the resource identifier \
                 (application ID URI)."
            ),
        ));
    }
    let is_graph = |scope: &&str| {
        let resource = scope.trim_end_matches("/.default").trim_end_matches('/');
        GRAPH_RESOURCES
            .iter()
            .any(|graph| resource.eq_ignore_ascii_case(graph))
    };
    if scopes.len() != 1 || !scopes.iter().all(is_graph) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope \
                 {scope} is not valid."
            ),
        ));
    }
    Ok(())
}

impl Refusal {
    fn new(status: StatusCode, error: &'static str, code: u32, description: String) -> Self {
        Refusal {
            status,
            error,
            code,
            description,
        }
    }

    fn missing(parameter: &str) -> Self {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    /// Entra's error object, with the trace and correlation ids Entra appends to the text.
    fn respond(self, correlation_id: &str, trace_id: &str) -> Response {
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        let code = self.code;
        let body = serde_json::json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{code}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {now}",
                self.description
            ),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        });
        entra_json(self.status, body, correlation_id, trace_id)
    }
}

/// A JSON response with the headers Entra's token endpoint sends.
fn entra_json(
    status: StatusCode,
    body: serde_json::Value,
    correlation_id: &str,
    trace_id: &str,
) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "application/json; charset=utf-8"),
            (CACHE_CONTROL, "no-store, no-cache"),
            (PRAGMA, "no-cache"),
        ],
        [
            ("x-ms-request-id", trace_id),
            ("client-request-id", correlation_id),
        ],
        body.to_string(),
    )
        .into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(super) async fn token_endpoint(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let trace_id = shared.secrets.uuid();
    let correlation_id = headers
        .get("client-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|text| !text.is_empty() && text.len() <= 128)
        .map_or_else(|| shared.secrets.uuid(), str::to_owned);
    // Later duplicates of a field are ignored; the form is never logged (it holds the secret).
    let mut form = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(&body) {
        form.entry(name.into_owned()).or_insert(value.into_owned());
    }
    let tokens = &shared.tokens;
    match tokens.grant(&tenant, &form) {
        Ok(()) => {
            let access_token = tokens.issue(&shared.secrets, Instant::now());
            shared.stats.update(|stats| stats.tokens_issued += 1);
            tracing::debug!(client_id = %tokens.client_id, "simulator: token issued");
            let expires_in = tokens.lifetime.as_secs().min(u64::from(u32::MAX));
            let body = serde_json::json!({
                "token_type": "Bearer",
                "expires_in": expires_in,
                "ext_expires_in": expires_in,
                "access_token": access_token,
            });
            entra_json(StatusCode::OK, body, &correlation_id, &trace_id)
        }
        Err(refusal) => {
            shared.stats.update(|stats| stats.auth_failures += 1);
            tracing::debug!(code = refusal.code, "simulator: token request refused");
            refusal.respond(&correlation_id, &trace_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(lifetime_ms: u64) -> TokenIssuer {
        TokenIssuer::new("t", "c", "s", Duration::from_millis(lifetime_ms))
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        headers
    }

    #[test]
    fn tokens_live_for_their_lifetime() {
        let issuer = issuer(1000);
        let start = Instant::now();
        let token = issuer.issue(&SecretSource::new(), start);
        let check =
            |headers: &HeaderMap, ms| issuer.check(headers, start + Duration::from_millis(ms));
        assert!(
            matches!(check(&bearer(&token), 999), TokenCheck::Valid { client_id } if client_id == "c")
        );
        assert!(matches!(check(&bearer(&token), 1000), TokenCheck::Expired));
        assert!(matches!(check(&bearer("forged"), 0), TokenCheck::Unknown));
        assert!(matches!(check(&HeaderMap::new(), 0), TokenCheck::Missing));
    }

    #[test]
    fn grant_checks_in_entras_order() {
        let issuer = issuer(1000);
        let form = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect::<HashMap<_, _>>()
        };
        let good = [
            ("client_id", "c"),
            ("client_secret", "s"),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        assert!(issuer.grant("T", &form(&good)).is_ok());
        let code = |tenant: &str, change: (&str, &str)| {
            let mut pairs = form(&good);
            if change.1.is_empty() {
                pairs.remove(change.0);
            } else {
                pairs.insert(change.0.to_owned(), change.1.to_owned());
            }
            issuer
                .grant(tenant, &pairs)
                .err()
                .map(|refusal| refusal.code)
        };
        assert_eq!(code("other", ("scope", "x")), Some(90002));
        assert_eq!(code("t", ("grant_type", "")), Some(900144));
        assert_eq!(code("t", ("grant_type", "password")), Some(70003));
        assert_eq!(code("t", ("client_id", "nobody")), Some(700016));
        assert_eq!(code("t", ("scope", "AuditLog.Read.All")), Some(1002012));
        assert_eq!(
            code("t", ("scope", "https://vault.azure.net/.default")),
            Some(70011)
        );
        assert_eq!(
            code(
                "t",
                ("scope", "00000003-0000-0000-c000-000000000000/.default")
            ),
            None
        );
        assert_eq!(code("t", ("client_secret", "")), Some(7000218));
        assert_eq!(code("t", ("client_secret", "wrong")), Some(7000215));
    }
}
