//! A hand-made Graph on 127.0.0.1 for what the simulator never does: foreign and repeated
//! nextLinks, redirects, refusals, HTML pages. It answers directoryAudits requests from a
//! script, one answer per request (the last repeats), and records every request it gets; its
//! token endpoint gives any scripted answers first, then a distinctive access token to anyone.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Command as Process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{any, post};

use super::common::WINDOW;

/// One scripted answer; in its body and headers `{base}` is replaced by the server's URL,
/// `{port}` by its port and `{token}` by the bearer token of the request (as error pages of
/// some proxies echo the request's headers).
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    /// Entra's answer to a token request when it has a transient problem.
    pub fn token_unavailable() -> Answer {
        Answer {
            status: 503,
            headers: vec![("content-type", "application/json".into())],
            body: r#"{"error":"temporarily_unavailable","error_description":"AADSTS90033: A transient error has occurred. Please try again.","error_codes":[90033]}"#.into(),
        }
    }

    /// A 200 whose body is a gateway's HTML error page, labelled `content_type`.
    pub fn html_error_page(content_type: &str) -> Answer {
        Answer {
            status: 200,
            headers: vec![("content-type", content_type.to_owned())],
            body: "<!DOCTYPE html><html><head><title>Service Unavailable</title></head>\
                   <body><h1>Service Unavailable</h1></body></html>"
                .into(),
        }
    }

    pub fn page(records: &str, next_link: Option<&str>) -> Answer {
        let next = next_link
            .map(|link| format!(",\"@odata.nextLink\":\"{link}\""))
            .unwrap_or_default();
        Answer {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: format!("{{\"value\":[{records}]{next}}}"),
        }
    }
}

/// One SSPR record as Graph serves it.
pub const RECORD: &str = r#"{"id":"r1","activityDateTime":"2026-10-01T08:00:00Z","correlationId":"c1","activityDisplayName":"Reset password (self-service)","result":"success"}"#;

/// The access token the token endpoint issues: distinctive, so tests can look for it anywhere.
pub const ACCESS_TOKEN: &str = "eyJ0eXAiOiJKV1Qi.fake-graph-access-token.Qm9ndXNUb2tlbg";

/// A request the server got: path and query, and the bearer token it carried, if any.
#[derive(Clone, Debug)]
pub struct Seen {
    pub uri: String,
    pub bearer: bool,
    pub token: Option<String>,
}

struct Script {
    base: String,
    answers: Vec<Answer>,
    seen: Mutex<Vec<Seen>>,
    /// Answers to the first token requests; the later ones get [`ACCESS_TOKEN`].
    token_answers: Mutex<VecDeque<Answer>>,
    token_requests: AtomicUsize,
}

pub struct FakeGraph {
    script: Arc<Script>,
    _runtime: tokio::runtime::Runtime,
}

impl FakeGraph {
    pub fn start(answers: Vec<Answer>) -> FakeGraph {
        FakeGraph::start_on("127.0.0.1", answers)
    }

    /// On another loopback address, to stand for another host.
    pub fn start_on(host: &str, answers: Vec<Answer>) -> FakeGraph {
        FakeGraph::serve(host, answers, Vec::new())
    }

    /// Its token endpoint first gives `token_answers`, one a request.
    pub fn start_with_token_answers(answers: Vec<Answer>, token_answers: Vec<Answer>) -> FakeGraph {
        FakeGraph::serve("127.0.0.1", answers, token_answers)
    }

    fn serve(host: &str, answers: Vec<Answer>, token_answers: Vec<Answer>) -> FakeGraph {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind((host, 0)))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(Script {
            base,
            answers,
            seen: Mutex::new(Vec::new()),
            token_answers: Mutex::new(token_answers.into()),
            token_requests: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/msi/token", axum::routing::get(managed_identity_token))
            .fallback(any(answer))
            .with_state(Arc::clone(&script));
        runtime.spawn(async move { axum::serve(listener, router).await });
        FakeGraph {
            script,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        self.script.base.clone()
    }

    /// Requests other than for a token.
    pub fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().unwrap().clone()
    }

    pub fn token_requests(&self) -> usize {
        self.script.token_requests.load(Ordering::SeqCst)
    }

    /// `ssprlens fetch` of the sample window from this Graph into `store`, signing in here as
    /// `args` and `env` say (with no client secret unless `env` gives one).
    pub fn fetch_command(&self, store: &Path, args: &[&str], env: &[(&str, &str)]) -> Process {
        let mut command = Process::new(env!("CARGO_BIN_EXE_ssprlens"));
        command
            .args([
                "fetch",
                "--store",
                store.to_str().unwrap(),
                "--graph-url",
                &self.url(),
                "--authority-host",
                &self.url(),
            ])
            .args(WINDOW)
            .args(args)
            .env("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001")
            .env("AZURE_CLIENT_ID", "app")
            .env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_AUTHORITY_HOST")
            .env_remove("SSPRLENS_LOG")
            .envs(env.iter().copied());
        command
    }
}

async fn token(State(script): State<Arc<Script>>) -> Response {
    script.token_requests.fetch_add(1, Ordering::SeqCst);
    let scripted = script.token_answers.lock().unwrap().pop_front();
    if let Some(answer) = scripted {
        return respond(&script, &answer, None);
    }
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(format!(r#"{{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":"{ACCESS_TOKEN}"}}"#)))
        .unwrap()
}

/// App Service's managed identity endpoint (`IDENTITY_ENDPOINT`), as azure_identity calls it.
async fn managed_identity_token(headers: HeaderMap) -> Response {
    if headers.get("x-identity-header").is_none() {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .body(Body::empty())
            .unwrap();
    }
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"access_token":"mi-token","expires_on":"4102444800","resource":"https://graph.microsoft.com","token_type":"Bearer"}"#,
        ))
        .unwrap()
}

async fn answer(
    State(script): State<Arc<Script>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok()?.strip_prefix("Bearer "))
        .map(str::to_owned);
    let index = {
        let mut seen = script.seen.lock().unwrap();
        seen.push(Seen {
            uri: request.uri().to_string(),
            bearer: token.is_some(),
            token: token.clone(),
        });
        seen.len() - 1
    };
    let Some(answer) = script.answers.get(index).or(script.answers.last()) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap();
    };
    respond(&script, answer, token.as_deref())
}

/// An answer with `{base}`, `{port}` and `{token}` filled in.
fn respond(script: &Script, answer: &Answer, token: Option<&str>) -> Response {
    let mut response = Response::builder().status(answer.status);
    let port = script.base.rsplit(':').next().unwrap_or_default();
    let fill = |text: &str| {
        text.replace("{base}", &script.base)
            .replace("{port}", port)
            .replace("{token}", token.unwrap_or_default())
    };
    for (name, value) in &answer.headers {
        response = response.header(*name, fill(value));
    }
    response.body(Body::from(fill(&answer.body))).unwrap()
}
