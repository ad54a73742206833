//! The HTML report: one self-contained page, its data text escaped, and rendered by a real
//! browser (headless Chromium) with visible charts whose SVG elements carry the report's numbers.
//!
//! Chromium must be installed (`.ci/run` installs Debian's `chromium`): without it the browser
//! test fails, unless `SSPRLENS_SKIP_BROWSER=1` asks explicitly to skip it.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{csv_rows, run_ok, sample};

/// The browser, or `None` when asked explicitly to skip; a missing browser fails the test.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file());
    match found {
        Some(browser) => Some(browser),
        None if std::env::var("SSPRLENS_SKIP_BROWSER").as_deref() == Ok("1") => {
            eprintln!("SSPRLENS_SKIP_BROWSER=1: the HTML report is not rendered in a browser");
            None
        }
        None => panic!(
            "Chromium is not installed, so the HTML report cannot be checked in a browser: \
             install it (`apt-get install -y chromium`, as .ci/run does), or set \
             SSPRLENS_SKIP_BROWSER=1 to skip this test explicitly"
        ),
    }
}

/// Runs headless Chromium on `page` with `extra` arguments and a fresh profile; its stdout.
fn headless(browser: &Path, page: &Path, extra: &[&str]) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("chromium did not finish within 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap().unwrap()
}

/// (width, height, RGB pixels) of a PNG.
fn pixels(png_bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let mut reader = png::Decoder::new(Cursor::new(png_bytes))
        .read_info()
        .expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let channels = info.color_type.samples();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    assert!(channels >= 3, "{:?}", info.color_type);
    let rgb = buffer[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

/// Every value of `attribute` in the tags holding `marker`.
fn attribute_values(dom: &str, marker: &str, attribute: &str) -> Vec<String> {
    dom.match_indices(marker)
        .map(|(at, _)| {
            let tag = &dom[at..at + dom[at..].find('>').expect("a closed tag")];
            let start =
                tag.find(&format!("{attribute}=\"")).expect(attribute) + attribute.len() + 2;
            tag[start..start + tag[start..].find('"').unwrap()].to_owned()
        })
        .collect()
}

#[test]
fn the_html_report_renders_in_chromium_with_its_charts_and_numbers() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let input = sample("audit.ndjson");
    let flags = ["--rollout-date", "2026-10-15", "--quiet"];
    run_ok(
        &[
            &[
                "report",
                "--input",
                input.to_str().unwrap(),
                "--format",
                "html",
                "--out",
                page.to_str().unwrap(),
            ][..],
            &flags,
        ]
        .concat(),
    );

    let shot = dir.path().join("shot.png");
    headless(
        &browser,
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
        ],
    );
    let (width, height, rgb) = pixels(&std::fs::read(&shot).expect("a screenshot"));
    assert_eq!((width, height), (1280, 2000));
    let painted = rgb.iter().filter(|p| p.iter().any(|c| *c < 235)).count();
    assert!(
        painted * 50 > rgb.len(),
        "the page looks blank: {painted} of {} pixels painted",
        rgb.len()
    );
    for (name, color) in [
        ("login_screen blue", [0x00, 0x72, 0xB2]),
        ("web green", [0x00, 0x9E, 0x73]),
        ("admin vermillion", [0xD5, 0x5E, 0x00]),
    ] {
        let near = rgb
            .iter()
            .filter(|p| p.iter().zip(color).all(|(a, b)| a.abs_diff(b) < 12))
            .count();
        assert!(near > 2000, "{name} is hardly visible: {near} pixels");
    }

    let dom = String::from_utf8(headless(&browser, &page, &["--dump-dom"])).unwrap();
    for chart in [
        "trend-chart",
        "funnel-chart",
        "drop-off-chart",
        "rollout-chart",
    ] {
        assert!(
            dom.contains(&format!("<svg class=\"chart\" id=\"{chart}\"")),
            "{chart} missing"
        );
    }
    // The trend chart: one segment per non-zero (period, channel) of completed resets.
    let trend = run_ok(
        &[
            &[
                "report",
                "--input",
                input.to_str().unwrap(),
                "--report",
                "trend",
                "--format",
                "csv",
            ][..],
            &flags,
        ]
        .concat(),
    );
    let cells: Vec<f64> = csv_rows(&trend)
        .iter()
        .map(|row| row["completed"].parse::<f64>().unwrap())
        .filter(|completed| *completed > 0.0)
        .collect();
    let values: Vec<f64> = attribute_values(&dom, "data-chart=\"trend-chart\"", "data-value")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(values.len(), cells.len());
    assert_eq!(values.iter().sum::<f64>(), cells.iter().sum::<f64>());
    let truth = super::common::truth();
    let completed: u64 = truth["channels"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["completed"].as_u64().unwrap())
        .sum();
    assert_eq!(
        values.iter().sum::<f64>(),
        completed as f64,
        "every completed reset is drawn"
    );
    // The funnel chart's first bar is every self-service attempt started.
    let started: f64 = attribute_values(
        &dom,
        "data-chart=\"funnel-chart\" data-series",
        "data-category",
    )
    .iter()
    .zip(attribute_values(
        &dom,
        "data-chart=\"funnel-chart\" data-series",
        "data-value",
    ))
    .filter(|(category, _)| category.as_str() == "started")
    .map(|(_, value)| value.parse::<f64>().unwrap())
    .sum();
    let resets: u64 = ["login_screen", "web", "other", "unknown"]
        .iter()
        .map(|c| truth["channels"][c]["attempts"].as_u64().unwrap())
        .sum();
    assert_eq!(started, resets as f64);
}

#[test]
fn the_html_report_is_self_contained_and_escapes_hostile_text() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hostile.ndjson");
    let record = serde_json::json!({
        "id": "x1", "activityDateTime": "2026-10-01T03:00:00Z", "correlationId": "x",
        "activityDisplayName": "Reset password (self-service)", "result": "success",
        "initiatedBy": {"user": {"userPrincipalName": "\"><script>alert(1)</script>@x", "ipAddress": "192.0.2.1"}},
        "additionalDetails": [{"key": "ClientType", "value": "<img src=x onerror=alert(2)>"}]
    });
    std::fs::write(&input, format!("{record}\n")).unwrap();
    let page = dir.path().join("report.html");
    run_ok(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--out",
        page.to_str().unwrap(),
        "--quiet",
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "the format follows the .html extension"
    );
    for forbidden in [
        "<script", "<img", "http://", "https://", "@import", "url(", "<link", "src=",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} in the page");
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;@x"),
        "the user is shown, escaped"
    );
    // --all with html writes the one page into the directory.
    let out = dir.path().join("all");
    run_ok(&[
        "report",
        "--input",
        input.to_str().unwrap(),
        "--all",
        "--format",
        "html",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.join("report.html").is_file());
}
