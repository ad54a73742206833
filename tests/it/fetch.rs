//! The fetcher against real HTTP servers on 127.0.0.1: the Graph simulator (paging, throttling,
//! faults, short-lived tokens) and, for what the simulator never does, a hand-made Graph.
//! The expected counts come from the generator's ground truth.

use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use ssprlens::simulator::{Fault, SimulatorConfig, Throttle};

use super::common::{
    SECRET, SLOW, assert_no_secret, assert_store_equals_source, fetch, fetch_command, raw_ids, run,
    run_ok, simulator, source_ids, spawn_slow_fetch, wait_until, watermark,
};

#[test]
fn a_clean_fetch_stores_every_record_once_under_the_throttle() {
    let sim = simulator(SimulatorConfig {
        throttle: Some(Throttle {
            requests: 5,
            window: Duration::from_millis(200),
        }),
        empty_page_every: 4,
        ..SimulatorConfig::default()
    });
    let store = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = fetch(&sim, store.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_store_equals_source(store.path());
    let stats = sim.stats();
    assert_eq!(
        stats.throttled, 0,
        "the client limiter kept under the server's limit: {stats:?}"
    );
    assert!(stats.max_requests_in_window <= 5, "{stats:?}");
    assert_no_secret(&[&stdout, &stderr], store.path());
    // A re-run fetches the overlap again and stores nothing twice.
    let (code, _, stderr) = fetch(&sim, store.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(" 0 new"), "{stderr}");
    assert_store_equals_source(store.path());
}

#[test]
fn faults_throttling_and_expiring_tokens_lose_nothing() {
    let sim = simulator(SimulatorConfig {
        throttle: Some(Throttle {
            requests: 5,
            window: Duration::from_millis(200),
        }),
        fault_rate: 0.1,
        faults: vec![
            Fault::Status500,
            Fault::Status502,
            Fault::Status503 { retry_after: true },
            Fault::Status503 { retry_after: false },
            Fault::Status504,
            Fault::TruncatedBody,
            Fault::SlowResponse(Duration::from_millis(300)),
            Fault::ConnectionReset,
            Fault::HtmlErrorPage,
            Fault::Unauthorized,
        ],
        seed: 11,
        token_lifetime: Duration::from_secs(1),
        empty_page_every: 3,
        ..SimulatorConfig::default()
    });
    let store = tempfile::tempdir().unwrap();
    // The client allows ten times what the server does: the 429s must teach it.
    let (code, stdout, stderr) = fetch(
        &sim,
        store.path(),
        &[
            "--throttle",
            "50/200ms",
            "--page-size",
            "20",
            "--retry-budget",
            "5m",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_store_equals_source(store.path());
    let stats = sim.stats();
    assert!(
        stats.throttled > 0 && stats.faults_injected > 0,
        "{stats:?}"
    );
    assert!(stats.tokens_issued > 1, "tokens were renewed: {stats:?}");
    assert_no_secret(&[&stdout, &stderr], store.path());
}

#[test]
fn a_fetch_killed_mid_way_is_completed_by_the_next_run() {
    let sim = simulator(SimulatorConfig {
        response_delay: Duration::from_millis(60),
        ..SimulatorConfig::default()
    });
    let store = tempfile::tempdir().unwrap();
    let mut child = spawn_slow_fetch(&sim, store.path());
    wait_until(|| sim.stats().pages_served >= 23);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let stored_before = raw_ids(store.path()).len();
    assert!(
        stored_before > 0 && stored_before < source_ids().len(),
        "{stored_before}"
    );
    let (code, _, stderr) = fetch(&sim, store.path(), &SLOW);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("recovered a stale store lock"), "{stderr}");
    assert_store_equals_source(store.path());
}

#[test]
fn overlapping_windows_store_nothing_twice() {
    let sim = simulator(SimulatorConfig::default());
    let store = tempfile::tempdir().unwrap();
    for (since, until) in [
        ("2026-09-01T00:00:00Z", "2026-10-20T00:00:00Z"),
        ("2026-10-10T00:00:00Z", "2026-11-25T00:00:00Z"),
        ("2026-08-01T00:00:00Z", "2026-12-01T00:00:00Z"),
    ] {
        let (code, _, stderr) = fetch(
            &sim,
            store.path(),
            &["--since", since, "--until", until, "--throttle", "100/1s"],
        );
        assert_eq!(code, 0, "{stderr}");
    }
    assert_store_equals_source(store.path());
}

#[test]
fn incremental_runs_start_at_the_watermark_minus_the_overlap() {
    let sim = simulator(SimulatorConfig::default());
    let store = tempfile::tempdir().unwrap();
    let (code, _, stderr) = fetch(
        &sim,
        store.path(),
        &[
            "--since",
            "2026-09-01T00:00:00Z",
            "--until",
            "2026-10-15T00:00:00Z",
            "--throttle",
            "100/1s",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.path().join("state.json")).unwrap()).unwrap();
    assert_eq!(state["watermark"], "2026-10-15T00:00:00Z");
    // No --since: from the watermark minus the 1 h overlap.
    let (code, _, stderr) = fetch(
        &sim,
        store.path(),
        &["--until", "2026-12-01T00:00:00Z", "--throttle", "100/1s"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("fetching 2026-10-14 23:00:00 UTC .. 2026-12-01 00:00:00 UTC"),
        "{stderr}"
    );
    assert_store_equals_source(store.path());
}

#[test]
fn a_second_fetch_into_the_same_store_is_refused() {
    let sim = simulator(SimulatorConfig {
        response_delay: Duration::from_millis(200),
        ..SimulatorConfig::default()
    });
    let store = tempfile::tempdir().unwrap();
    let mut first = spawn_slow_fetch(&sim, store.path());
    wait_until(|| sim.stats().requests > 0);
    let (code, _, stderr) = fetch(&sim, store.path(), &[]);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(code, 7, "{stderr}");
    assert!(stderr.contains("another fetch is writing it"), "{stderr}");
}

#[test]
fn a_wrong_secret_fails_with_entras_error_and_exit_5() {
    let sim = simulator(SimulatorConfig::default());
    let store = tempfile::tempdir().unwrap();
    let output = fetch_command(&sim, store.path(), &[])
        .env("AZURE_CLIENT_SECRET", "wrong-secret-value")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("AADSTS7000215"), "{stderr}");
    assert!(stderr.contains("AuditLog.Read.All"), "{stderr}");
    assert!(!stderr.contains("wrong-secret-value") && !stderr.contains(SECRET));
}

#[test]
fn exhausted_retries_name_the_last_graph_error() {
    let sim = simulator(SimulatorConfig {
        fault_rate: 1.0,
        faults: vec![Fault::Status500],
        ..SimulatorConfig::default()
    });
    let store = tempfile::tempdir().unwrap();
    let (code, _, stderr) = fetch(
        &sim,
        store.path(),
        &["--retry-budget", "2s", "--throttle", "100/1s"],
    );
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("HTTP 500") && stderr.contains("request-id"),
        "{stderr}"
    );
    assert_eq!(watermark(store.path()), None, "the watermark must not move");
}

#[test]
fn http_is_refused_for_hosts_that_are_not_loopback() {
    let store = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&[
        "fetch",
        "--store",
        store.path().to_str().unwrap(),
        "--graph-url",
        "http://graph.example.com",
        "--azure-cli",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("must use https"), "{stderr}");
}

mod hand_made {
    use super::super::common::outcome;
    use super::super::fake_graph::{Answer, FakeGraph, RECORD};
    use super::*;

    /// A fast-failing fetch from `graph` with the client secret.
    fn fetch_from(graph: &FakeGraph) -> (i32, String) {
        fetch_signed_in(
            graph,
            &["--throttle", "100/1s", "--retry-budget", "1s"],
            &[("AZURE_CLIENT_SECRET", SECRET)],
        )
    }

    #[test]
    fn a_next_link_seen_twice_stops_the_loop() {
        let graph = FakeGraph::start(vec![Answer::page(
            RECORD,
            Some("{base}/v1.0/auditLogs/directoryAudits?$skiptoken=same"),
        )]);
        let (code, stderr) = fetch_from(&graph);
        assert_eq!(code, 6, "{stderr}");
        assert!(stderr.contains("same nextLink twice"), "{stderr}");
        let seen = graph.seen();
        assert_eq!(seen.len(), 2);
        assert!(
            seen[0].uri.contains("$filter=") && seen[1].uri.ends_with("$skiptoken=same"),
            "{seen:?}"
        );
    }

    #[test]
    fn forbidden_fails_fast_with_graphs_code_message_and_request_id() {
        let graph = FakeGraph::start(vec![Answer {
            status: 403,
            headers: vec![("request-id", "3c9a-req".into()), ("content-type", "application/json".into())],
            body: r#"{"error":{"code":"Authentication_RequestFromNonPremiumTenantOrB2CTenant","message":"Neither tenant is B2C or tenant doesn't have premium license","innerError":{"request-id":"3c9a-req"}}}"#.into(),
        }]);
        let (code, stderr) = fetch_from(&graph);
        assert_eq!(code, 5, "{stderr}");
        assert!(
            stderr.contains("Authentication_RequestFromNonPremiumTenantOrB2CTenant")
                && stderr.contains("3c9a-req")
                && stderr.contains("licence"),
            "{stderr}"
        );
        assert_eq!(graph.seen().len(), 1, "403 is not retried");
    }

    /// `ssprlens fetch` against `graph` into a fresh store, signing in as `args` and `env` say.
    fn fetch_signed_in(graph: &FakeGraph, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
        let store = tempfile::tempdir().unwrap();
        let (code, _, stderr) = outcome(graph.fetch_command(store.path(), args, env));
        (code, stderr)
    }

    #[test]
    fn a_pkcs12_certificate_signs_in_and_its_password_stays_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (key, cert, pfx) = (
            dir.path().join("key.pem"),
            dir.path().join("cert.pem"),
            dir.path().join("app.pfx"),
        );
        let openssl = |args: &[&str]| {
            assert!(
                Process::new("openssl")
                    .args(args)
                    .output()
                    .expect("openssl runs")
                    .status
                    .success(),
                "{args:?}"
            )
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
            "-days",
            "2",
            "-subj",
            "/CN=ssprlens-test",
        ]);
        openssl(&[
            "pkcs12",
            "-export",
            "-inkey",
            key.to_str().unwrap(),
            "-in",
            cert.to_str().unwrap(),
            "-out",
            pfx.to_str().unwrap(),
            "-passout",
            "pass:Pfx-Pa55word",
        ]);
        let graph = FakeGraph::start(vec![Answer::page(RECORD, None)]);
        let (code, stderr) = fetch_signed_in(
            &graph,
            &["--certificate", pfx.to_str().unwrap()],
            &[("AZURE_CLIENT_CERTIFICATE_PASSWORD", "Pfx-Pa55word")],
        );
        assert_eq!(code, 0, "{stderr}");
        assert!(graph.seen()[0].bearer && !stderr.contains("Pfx-Pa55word"));
        let (code, stderr) = fetch_signed_in(
            &graph,
            &["--certificate", pfx.to_str().unwrap()],
            &[("AZURE_CLIENT_CERTIFICATE_PASSWORD", "wrong")],
        );
        assert_eq!(code, 5, "{stderr}");
    }

    #[test]
    fn workload_identity_signs_in_with_the_federated_token_file() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(
            &token,
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2ln",
        )
        .unwrap();
        let graph = FakeGraph::start(vec![Answer::page(RECORD, None)]);
        let (code, stderr) = fetch_signed_in(
            &graph,
            &[],
            &[("AZURE_FEDERATED_TOKEN_FILE", token.to_str().unwrap())],
        );
        assert_eq!(code, 0, "{stderr}");
        assert!(graph.seen()[0].bearer);
    }

    #[test]
    fn the_azure_cli_account_signs_in() {
        let dir = tempfile::tempdir().unwrap();
        let az = dir.path().join("az");
        std::fs::write(&az, "#!/bin/sh\necho '{\"accessToken\":\"cli-token\",\"expiresOn\":\"2099-01-01 00:00:00.000000\",\"expires_on\":4070908800,\"tokenType\":\"Bearer\"}'\n").unwrap();
        std::fs::set_permissions(&az, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let path = format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let graph = FakeGraph::start(vec![Answer::page(RECORD, None)]);
        let (code, stderr) = fetch_signed_in(&graph, &["--azure-cli"], &[("PATH", &path)]);
        assert_eq!(code, 0, "{stderr}");
        assert!(graph.seen()[0].bearer);
    }

    #[test]
    fn a_managed_identity_signs_in() {
        let graph = FakeGraph::start(vec![Answer::page(RECORD, None)]);
        let endpoint = format!("{}/msi/token", graph.url());
        let (code, stderr) = fetch_signed_in(
            &graph,
            &["--managed-identity"],
            &[("IDENTITY_ENDPOINT", &endpoint), ("IDENTITY_HEADER", "h")],
        );
        assert_eq!(code, 0, "{stderr}");
        assert!(
            graph
                .seen()
                .iter()
                .any(|seen| seen.bearer && seen.uri.contains("directoryAudits"))
        );
    }

    #[test]
    fn a_transient_failure_of_the_token_endpoint_is_retried() {
        let graph = FakeGraph::start_with_token_answers(
            vec![Answer::page(RECORD, None)],
            vec![Answer::token_unavailable()],
        );
        let (code, stderr) = fetch_from(&graph);
        assert_eq!(code, 0, "{stderr}");
        // The services' query, then the Core Directory resets' (the page repeats).
        assert_eq!(graph.seen().len(), 2);
    }

    #[test]
    fn a_bad_request_fails_fast() {
        let graph = FakeGraph::start(vec![Answer {
            status: 400,
            headers: vec![],
            body: r#"{"error":{"code":"BadRequest","message":"Invalid filter clause","innerError":{"request-id":"r-400"}}}"#.into(),
        }]);
        let (code, stderr) = fetch_from(&graph);
        assert_eq!(code, 6, "{stderr}");
        assert!(
            stderr.contains("BadRequest: Invalid filter clause (request-id r-400)"),
            "{stderr}"
        );
        // The services joined by `or`, then the first service alone: no retry of either.
        assert!(stderr.contains("one query per service instead"), "{stderr}");
        assert_eq!(graph.seen().len(), 2);
    }

    #[test]
    fn a_429_with_a_fractional_retry_after_is_waited_out() {
        let graph = FakeGraph::start(vec![
            Answer {
                status: 429,
                headers: vec![("retry-after", "0.35".into())],
                body: String::new(),
            },
            Answer::page(RECORD, None),
        ]);
        let started = Instant::now();
        let (code, stderr) = fetch_signed_in(&graph, &[], &[("AZURE_CLIENT_SECRET", SECRET)]);
        assert_eq!(code, 0, "{stderr}");
        assert!(started.elapsed() >= Duration::from_millis(350));
        assert!(graph.seen().iter().all(|seen| seen.bearer));
        // The 429, the page, then the Core Directory resets' query (the page repeats).
        assert_eq!(graph.seen().len(), 3);
    }
}

#[test]
fn every_report_reads_the_store_as_it_reads_the_files() {
    let sim = simulator(SimulatorConfig::default());
    let store = tempfile::tempdir().unwrap();
    let (code, _, stderr) = fetch(&sim, store.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let whole: &[&str] = &[];
    let window = ["--since", "2026-09-15", "--until", "2026-11-10"];
    for (index, selection) in [whole, &window[..]].into_iter().enumerate() {
        let out = tempfile::tempdir().unwrap();
        let (from_store, from_files) = (out.path().join("store"), out.path().join("files"));
        let common = [
            &["--all", "--rollout-date", "2026-10-15", "--quiet"][..],
            selection,
        ]
        .concat();
        let store_dir = store.path().to_str().unwrap();
        run_ok(
            &[
                &[
                    "report",
                    "--store",
                    store_dir,
                    "--out",
                    from_store.to_str().unwrap(),
                ][..],
                &common,
            ]
            .concat(),
        );
        run_ok(
            &[
                &[
                    "report",
                    "--input",
                    "data/sample/audit.ndjson",
                    "--out",
                    from_files.to_str().unwrap(),
                ][..],
                &common,
            ]
            .concat(),
        );
        assert_eq!(names(&from_files).len(), 10);
        assert_eq!(names(&from_store), names(&from_files));
        for name in names(&from_files) {
            // With a window, the store reads only its days (and one either side), so the history
            // behind `new_for_user` is shorter: the one documented difference.
            if index == 1 && name == "ips.csv" {
                continue;
            }
            let read = |dir: &Path| std::fs::read_to_string(dir.join(&name)).unwrap();
            assert_eq!(read(&from_store), read(&from_files), "{name} {selection:?}");
        }
    }
}
