//! Graph's response conventions outside the pages themselves: the OData JSON content type, the
//! `request-id` and `client-request-id` headers on every response, and the error object
//! `{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}`
//! (<https://learn.microsoft.com/graph/errors>).

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::random::SecretSource;

/// The content type Graph gives its JSON responses.
pub(super) const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// What Graph answers a request without a usable token with.
const WWW_AUTHENTICATE_GRAPH: &str = "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";

/// The ids of one Graph request: `request-id` is new; `client-request-id` echoes the client's
/// header, or repeats the request id when the client sent none (as Graph does).
pub(super) struct RequestIds {
    request_id: HeaderValue,
    client_request_id: HeaderValue,
}

impl RequestIds {
    pub fn new(request_headers: &HeaderMap, secrets: &SecretSource) -> Self {
        let request_id =
            HeaderValue::from_str(&secrets.uuid()).expect("a UUID is a valid header value");
        let client_request_id = request_headers
            .get("client-request-id")
            .filter(|value| {
                value
                    .to_str()
                    .is_ok_and(|text| !text.is_empty() && text.len() <= 128)
            })
            .cloned()
            .unwrap_or_else(|| request_id.clone());
        RequestIds {
            request_id,
            client_request_id,
        }
    }

    /// Adds both headers to `response`.
    pub fn stamp(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        headers.insert("request-id", self.request_id.clone());
        headers.insert("client-request-id", self.client_request_id.clone());
        response
    }

    fn text(value: &HeaderValue) -> &str {
        value.to_str().unwrap_or_default()
    }
}

/// A Graph error response, stamped with the request's ids.
pub(super) fn error(status: StatusCode, code: &str, message: &str, ids: &RequestIds) -> Response {
    let body = serde_json::json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": RequestIds::text(&ids.request_id),
                "client-request-id": RequestIds::text(&ids.client_request_id),
            }
        }
    });
    ids.stamp((status, [(CONTENT_TYPE, GRAPH_JSON)], body.to_string()).into_response())
}

/// 401 `InvalidAuthenticationToken` with Graph's `WWW-Authenticate` challenge.
pub(super) fn invalid_token(message: &str, ids: &RequestIds) -> Response {
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
        ids,
    );
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(WWW_AUTHENTICATE_GRAPH),
    );
    response
}
