//! The fetcher under faults: the network cut mid-body, servers that never answer, HTML where a
//! page belongs, hosts the token must never reach, a full disk, SIGINT and SIGTERM, and secrets
//! in any output. Every server is real, on 127.0.0.1; time limits are scaled down with
//! `--timeout` and `--retry-budget`. Each failure must leave the watermark where it was and the
//! store consistent, and a re-run against a healthy Graph must complete the store.

use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use ssprlens::simulator::{BackgroundSimulator, SimulatorConfig};

use super::common::{
    SECRET, SLOW, assert_none_leaked, assert_store_consistent, assert_store_equals_source, fetch,
    fetch_command, fetch_command_at, files_under, outcome, raw_ids, sign_in_as_the_simulators_app,
    simulator, wait_until, watermark,
};
use super::fake_graph::{ACCESS_TOKEN, Answer, FakeGraph, RECORD};
use super::raw_servers::{Cut, RawServer};

/// The first month of the sample, fetched before a failing run so that it has a watermark to
/// keep.
const FIRST_MONTH: [&str; 4] = [
    "--since",
    "2026-08-01T00:00:00Z",
    "--until",
    "2026-09-01T00:00:00Z",
];
/// The rest of the sample: from the watermark (minus the overlap) to the end of the window.
const TO_THE_END: [&str; 2] = ["--until", "2026-12-01T00:00:00Z"];

/// Fetches the first month into `store`; returns the watermark it set.
fn fetch_first_month(graph_url: &str, store: &Path) -> String {
    let (code, _, stderr) = outcome(fetch_command_at(graph_url, graph_url, store, &FIRST_MONTH));
    assert_eq!(code, 0, "{stderr}");
    let moved = watermark(store).expect("a complete window moves the watermark");
    assert_eq!(moved, "2026-09-01T00:00:00Z");
    moved
}

/// After a failed run: the watermark is `before`, the store holds more than `at_least` records,
/// each a source record stored once; then a healthy re-run completes it.
fn assert_kept_and_recovered(
    sim: &BackgroundSimulator,
    store: &Path,
    before: &str,
    at_least: usize,
) {
    assert_eq!(
        watermark(store).as_deref(),
        Some(before),
        "a failed run must not move the watermark"
    );
    let stored = assert_store_consistent(store);
    assert!(
        stored > at_least,
        "the pages fetched before the failure are kept: {stored} records, {at_least} before"
    );
    let (code, _, stderr) = fetch(sim, store, &TO_THE_END);
    assert_eq!(code, 0, "{stderr}");
    assert_store_equals_source(store);
    assert_eq!(watermark(store).as_deref(), Some("2026-12-01T00:00:00Z"));
}

/// A fetch through a proxy that passes seven pages whole (the first five are flushed together)
/// and cuts every later answer halfway through its body, with 1 s per request and a 2 s budget:
/// it gives up with exit 6 and `cause` in its message, keeps what it fetched, and a re-run
/// against the healthy Graph completes the store.
fn assert_a_cut_body_is_retried_then_given_up_and_a_rerun_recovers(cut: Cut, cause: &str) {
    let sim = simulator(SimulatorConfig::default());
    let store = tempfile::tempdir().unwrap();
    let before = fetch_first_month(&sim.url(), store.path());
    let first_month = raw_ids(store.path()).len();
    let proxy = RawServer::cutting_proxy(&sim.url(), 7, cut);
    let (code, _, stderr) = outcome(fetch_command_at(
        &proxy.url(),
        &sim.url(),
        store.path(),
        &[
            &TO_THE_END[..],
            &[
                "--page-size",
                "20",
                "--timeout",
                "1s",
                "--retry-budget",
                "2s",
            ],
        ]
        .concat(),
    ));
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("giving up: the retry budget (2s) is spent")
            && stderr.contains("the answer was cut off")
            && stderr.contains(cause),
        "{stderr}"
    );
    assert!(proxy.connections() >= 9, "the cut page was retried");
    assert_kept_and_recovered(&sim, store.path(), &before, first_month);
}

#[test]
fn a_connection_closed_mid_body_is_retried_then_given_up_and_a_rerun_recovers() {
    assert_a_cut_body_is_retried_then_given_up_and_a_rerun_recovers(
        Cut::Close,
        "end of file before message length reached",
    );
}

#[test]
fn a_body_that_stalls_midway_times_out_then_is_given_up_and_a_rerun_recovers() {
    assert_a_cut_body_is_retried_then_given_up_and_a_rerun_recovers(Cut::Stall, "timed out");
}

/// A fetch reading Graph at `graph_url` and signing in at `authority` with 1 s per request and
/// a 2 s budget must give up with exit 6, saying it timed out, after two tries: the first try
/// and the backoff after it (at most 0.5 s) fit the budget, the second try spends it. It takes
/// those two timeouts and the backoff, plus a generous allowance for a loaded machine; it
/// stores nothing. Returns standard error.
fn assert_times_out_after_two_tries(graph_url: &str, authority: &str) -> String {
    let store = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (code, _, stderr) = outcome(fetch_command_at(
        graph_url,
        authority,
        store.path(),
        &["--timeout", "1s", "--retry-budget", "2s"],
    ));
    let took = started.elapsed();
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("giving up: the retry budget (2s) is spent")
            && stderr.contains("timed out"),
        "{stderr}"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_millis(2500 + 3000),
        "{took:?}"
    );
    assert_eq!(watermark(store.path()), None, "{stderr}");
    assert!(!store.path().join("events").exists(), "nothing was stored");
    stderr
}

#[test]
fn a_graph_that_accepts_but_never_answers_times_out_within_the_budget() {
    let graph = RawServer::silent();
    let authority = FakeGraph::start(vec![]);
    assert_times_out_after_two_tries(&graph.url(), &authority.url());
    assert_eq!(graph.connections(), 2);
}

#[test]
fn a_graph_that_never_accepts_times_out_within_the_budget() {
    let graph = RawServer::never_accepting();
    let authority = FakeGraph::start(vec![]);
    assert_times_out_after_two_tries(&graph.url(), &authority.url());
    assert_eq!(graph.connections(), 0);
}

#[test]
fn a_token_endpoint_that_never_answers_times_out_within_the_budget() {
    let authority = RawServer::silent();
    let graph = FakeGraph::start(vec![Answer::page(RECORD, None)]);
    // Entra not answering is no refusal of the credentials: exit 6 (Graph unreadable), not 5.
    let stderr = assert_times_out_after_two_tries(&graph.url(), &authority.url());
    assert!(
        stderr.contains("signing in with the client secret failed"),
        "{stderr}"
    );
    assert_eq!(authority.connections(), 2);
    assert!(graph.seen().is_empty(), "no token, no Graph request");
}

/// A fetch with the client secret from `graph` into `store` that gives up after a second.
fn fetch_failing_fast(graph: &FakeGraph, store: &Path) -> (i32, String) {
    let (code, _, stderr) = outcome(graph.fetch_command(
        store,
        &["--retry-budget", "1s"],
        &[("AZURE_CLIENT_SECRET", SECRET)],
    ));
    (code, stderr)
}

#[test]
fn a_200_with_an_html_error_page_is_not_data() {
    for content_type in ["text/html; charset=utf-8", "application/json"] {
        let graph = FakeGraph::start(vec![
            Answer::page(
                RECORD,
                Some("{base}/v1.0/auditLogs/directoryAudits?$skiptoken=2"),
            ),
            Answer::html_error_page(content_type),
        ]);
        let store = tempfile::tempdir().unwrap();
        let (code, stderr) = fetch_failing_fast(&graph, store.path());
        assert_eq!(code, 6, "{content_type}: {stderr}");
        let media_type = content_type.split(';').next().unwrap();
        assert!(
            stderr.contains(&format!(
                "HTTP 200 with a body that is not a Graph page ({media_type}"
            )) && stderr.contains("Service Unavailable"),
            "{stderr}"
        );
        assert!(graph.seen().len() >= 3, "the page was retried");
        assert_eq!(
            raw_ids(store.path()),
            ["r1"],
            "only the first page is stored"
        );
        assert_eq!(watermark(store.path()), None);
        for (path, bytes) in files_under(store.path()) {
            assert!(
                !bytes.windows(5).any(|w| w.eq_ignore_ascii_case(b"<html")),
                "{path} holds the HTML page"
            );
        }
    }
}

/// Next links that point anywhere but the Graph: `{elsewhere}` stands for another server's
/// `host:port`, `{port}` for the Graph's own port.
const FOREIGN_LINKS: [&str; 5] = [
    "http://{elsewhere}/v1.0/auditLogs/directoryAudits?$skiptoken=x",
    "//{elsewhere}/v1.0/auditLogs/directoryAudits?$skiptoken=x",
    "http://127.0.0.1:{port}@{elsewhere}/v1.0/auditLogs/directoryAudits?$skiptoken=x",
    "https://127.0.0.1:{port}/v1.0/auditLogs/directoryAudits?$skiptoken=x",
    "http://localhost:{port}/v1.0/auditLogs/directoryAudits?$skiptoken=x",
];

/// Another host: a server on another loopback address, serving a page to whoever asks.
fn elsewhere() -> (FakeGraph, String) {
    let elsewhere = FakeGraph::start_on("127.0.0.2", vec![Answer::page(RECORD, None)]);
    let host = elsewhere.url().trim_start_matches("http://").to_owned();
    (elsewhere, host)
}

#[test]
fn a_next_link_to_another_host_is_refused_and_never_followed() {
    for link in FOREIGN_LINKS {
        let (elsewhere, host) = elsewhere();
        let graph = FakeGraph::start(vec![Answer::page(
            RECORD,
            Some(&link.replace("{elsewhere}", &host)),
        )]);
        let store = tempfile::tempdir().unwrap();
        let (code, stderr) = fetch_failing_fast(&graph, store.path());
        assert_eq!(code, 6, "{link}: {stderr}");
        assert!(
            stderr.contains("not to the Graph host") && stderr.contains("refused"),
            "{link}: {stderr}"
        );
        assert!(
            elsewhere.seen().is_empty(),
            "{link}: the other host was contacted"
        );
        assert_eq!(
            graph.seen().len(),
            1,
            "{link}: only the first page was asked for"
        );
        assert!(graph.seen()[0].bearer);
        assert_eq!(
            raw_ids(store.path()),
            ["r1"],
            "{link}: the first page is kept"
        );
    }
}

#[test]
fn a_redirect_to_another_host_is_not_followed_and_carries_no_token_away() {
    for status in [301, 302, 303, 307, 308] {
        let (elsewhere, host) = elsewhere();
        let graph = FakeGraph::start(vec![Answer {
            status,
            headers: vec![(
                "location",
                format!("http://{host}/v1.0/auditLogs/directoryAudits"),
            )],
            body: String::new(),
        }]);
        let store = tempfile::tempdir().unwrap();
        let (code, stderr) = fetch_failing_fast(&graph, store.path());
        assert_eq!(code, 6, "{status}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "HTTP {status}: a redirect to http://{host}/v1.0/auditLogs/directoryAudits, not followed"
            )),
            "{stderr}"
        );
        assert!(
            elsewhere.seen().is_empty(),
            "{status}: the redirect was followed"
        );
        assert_eq!(graph.seen().len(), 1, "{status} is not retried");
    }
}

#[test]
fn a_redirect_of_the_token_endpoint_carries_no_secret_away() {
    let (elsewhere, host) = elsewhere();
    let graph = FakeGraph::start_with_token_answers(
        vec![Answer::page(RECORD, None)],
        vec![Answer {
            status: 307,
            headers: vec![(
                "location",
                format!("http://{host}/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token"),
            )],
            body: String::new(),
        }],
    );
    let store = tempfile::tempdir().unwrap();
    let (code, stderr) = fetch_failing_fast(&graph, store.path());
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("signing in with the client secret failed")
            && stderr.contains(&format!(
                "HTTP 307 from {}: a redirect to http://{host}/",
                graph.url()
            ))
            && stderr.contains("not followed"),
        "{stderr}"
    );
    assert!(elsewhere.seen().is_empty() && elsewhere.token_requests() == 0);
    assert!(graph.seen().is_empty(), "no token, no Graph request");
}

/// Sends SIGINT or SIGTERM (`INT`, `TERM`) to a process.
fn send(signal: &str, pid: u32) {
    let status = Process::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -s {signal} {pid}");
}

#[test]
fn sigint_and_sigterm_stop_at_a_page_boundary_and_a_rerun_completes() {
    for signal in ["INT", "TERM"] {
        let sim = simulator(SimulatorConfig {
            response_delay: Duration::from_millis(60),
            ..SimulatorConfig::default()
        });
        let store = tempfile::tempdir().unwrap();
        let before = fetch_first_month(&sim.url(), store.path());
        let first_month = raw_ids(store.path()).len();
        let served = sim.stats().pages_served;
        let child = fetch_command(&sim, store.path(), &[&SLOW[..], &TO_THE_END].concat())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until(|| sim.stats().pages_served >= served + 12);
        send(signal, child.id());
        let signalled = Instant::now();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains("stopping at the next page boundary") && stderr.contains("interrupted"),
            "{stderr}"
        );
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "SIG{signal} took {:?}",
            signalled.elapsed()
        );
        assert_kept_and_recovered(&sim, store.path(), &before, first_month);
    }
}

#[test]
fn a_signal_while_signing_in_stops_without_waiting_for_the_token_endpoint() {
    let authority = RawServer::silent();
    let graph = FakeGraph::start(vec![Answer::page(RECORD, None)]);
    let store = tempfile::tempdir().unwrap();
    let child = fetch_command_at(
        &graph.url(),
        &authority.url(),
        store.path(),
        &["--timeout", "60s"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    wait_until(|| authority.connections() > 0);
    send("INT", child.id());
    let signalled = Instant::now();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "the token request's 60 s timeout was waited out: {:?}",
        signalled.elapsed()
    );
    assert_eq!(watermark(store.path()), None);
}

/// The store on a tmpfs of its own, in a private mount namespace: the first month is fetched,
/// the disk is filled up to 64 KiB, the rest fails part-way; then the tmpfs grows and a re-run
/// completes the store. `$1` is the mount point, `$2` the directory for what the runs leave
/// (exit codes, standard error, copies of the store), `$3` the binary, `$4` the Graph.
const DISK_FULL_SCRIPT: &str = r#"
set -u
mnt=$1 out=$2 bin=$3 url=$4
mount -t tmpfs -o size=16m tmpfs "$mnt" || { echo "cannot mount a tmpfs on $mnt" >&2; exit 90; }
fetch() {
    name=$1
    shift
    "$bin" fetch --store "$mnt/store" --graph-url "$url" --authority-host "$url" \
        --page-size 50 --throttle 100/1s "$@" 2>"$out/$name.err"
    echo $? >"$out/$name.code"
    cp -a "$mnt/store" "$out/$name"
}
fetch first --since 2026-08-01T00:00:00Z --until 2026-09-01T00:00:00Z
dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
truncate -s -64K "$mnt/filler"
fetch full --until 2026-12-01T00:00:00Z
mount -o remount,size=64m "$mnt"
fetch rerun --until 2026-12-01T00:00:00Z
"#;

#[test]
fn a_full_disk_fails_the_fetch_without_moving_the_watermark_and_a_rerun_recovers() {
    let sim = simulator(SimulatorConfig::default());
    let (mount_point, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut namespace = Process::new("unshare");
    namespace
        .args(["-Urm", "sh", "-c", DISK_FULL_SCRIPT, "sh"])
        .args([
            mount_point.path().to_str().unwrap(),
            out.path().to_str().unwrap(),
            env!("CARGO_BIN_EXE_ssprlens"),
            &sim.url(),
        ]);
    sign_in_as_the_simulators_app(&mut namespace);
    let output = namespace.output().unwrap_or_else(|err| {
        panic!("this test needs `unshare` (util-linux) to mount a small tmpfs: {err}")
    });
    assert!(
        output.status.success(),
        "this test needs `unshare -Urm` (root, or unprivileged user namespaces) to mount a small \
         tmpfs: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run = |name: &str| {
        let code = std::fs::read_to_string(out.path().join(format!("{name}.code"))).unwrap();
        let stderr = std::fs::read_to_string(out.path().join(format!("{name}.err"))).unwrap();
        (
            code.trim().parse::<i32>().unwrap(),
            stderr,
            out.path().join(name),
        )
    };
    let (code, stderr, first) = run("first");
    assert_eq!(code, 0, "{stderr}");
    let before = watermark(&first).unwrap();
    let first_month = raw_ids(&first).len();

    let (code, stderr, failed) = run("full");
    assert_eq!(
        code, 1,
        "a store that cannot be written fails with 1: {stderr}"
    );
    assert!(stderr.contains("No space left on device"), "{stderr}");
    let names_the_file = |kind: &str, suffix: &str| {
        stderr
            .split(&format!("writing {kind}/date=2026-"))
            .nth(1)
            .is_some_and(|rest| {
                rest.split_once(": No space left on device")
                    .is_some_and(|(file, _)| file.ends_with(suffix))
            })
    };
    assert!(
        names_the_file("raw", ".ndjson.gz")
            || names_the_file("parts", ".parquet")
            || names_the_file("events", ".parquet"),
        "the message names the file: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        watermark(&failed),
        Some(before),
        "the watermark must not move"
    );
    assert!(assert_store_consistent(&failed) >= first_month);

    let (code, stderr, recovered) = run("rerun");
    assert_eq!(code, 0, "{stderr}");
    assert_store_equals_source(&recovered);
    assert_eq!(
        watermark(&recovered).as_deref(),
        Some("2026-12-01T00:00:00Z")
    );
}

/// A record Graph might send that cannot be read: it goes to the rejects file.
const UNREADABLE_RECORD: &str = r#"{"id":42,"activityDateTime":"2026-10-02T08:00:00Z"}"#;

#[test]
fn no_secret_or_token_in_any_output_or_file() {
    let answers = [
        ("partly rejected", vec![Answer::page(&format!("{RECORD},{UNREADABLE_RECORD}"), None)], 4),
        (
            "token refused",
            vec![Answer {
                status: 401,
                headers: vec![("content-type", "application/json".into())],
                body: r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}}"#.into(),
            }],
            5,
        ),
        ("HTML page", vec![Answer::html_error_page("text/html")], 6),
        (
            "headers echoed in a page",
            vec![Answer {
                status: 200,
                headers: vec![("content-type", "text/plain".into())],
                body: "Authorization: Bearer {token}".into(),
            }],
            6,
        ),
        (
            "headers echoed in a refusal",
            vec![Answer {
                status: 400,
                headers: vec![("content-type", "application/json".into())],
                body: r#"{"error":{"code":"BadRequest","message":"Bad header: Bearer {token}"}}"#.into(),
            }],
            6,
        ),
    ];
    for (what, answers, expected) in answers {
        for log_format in ["text", "json"] {
            let graph = FakeGraph::start(answers.clone());
            let dir = tempfile::tempdir().unwrap();
            let rejects = dir.path().join("rejects.ndjson");
            let (code, stdout, stderr) = outcome({
                let mut command = graph.fetch_command(
                    &dir.path().join("store"),
                    &[
                        "--retry-budget",
                        "1s",
                        "--log-format",
                        log_format,
                        "--rejects",
                        rejects.to_str().unwrap(),
                    ],
                    &[
                        ("AZURE_CLIENT_SECRET", SECRET),
                        ("SSPRLENS_LOG", "trace"),
                        ("RUST_LOG", "trace"),
                    ],
                );
                command.env("RUST_BACKTRACE", "1");
                command
            });
            assert_eq!(code, expected, "{what}, {log_format}: {stderr}");
            assert!(
                graph
                    .seen()
                    .iter()
                    .any(|seen| seen.token.as_deref() == Some(ACCESS_TOKEN)),
                "{what}: the Graph got the token looked for"
            );
            assert!(stderr.lines().count() > 10, "trace logging is on: {stderr}");
            assert_none_leaked(&[SECRET, ACCESS_TOKEN], &[&stdout, &stderr], dir.path());
        }
    }
}
