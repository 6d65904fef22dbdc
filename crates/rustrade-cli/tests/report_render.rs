//! Acceptance: the HTML report renders in headless Chromium with every chart drawn and no
//! console message.
//!
//! The report's script marks the root element `data-ok="1"` (and `data-charts`) once all charts
//! are drawn, or `data-error` when anything fails; Chromium's `--dump-dom` shows the DOM after the
//! scripts ran, and `--enable-logging=stderr` prints every console message as a `CONSOLE` line.
//!
//! Without Chromium the tests print a notice and pass, except under CI (`CI` set), where they fail:
//! `.ci/run` installs Chromium, so its absence there is a broken pipeline, not a skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::time::Duration;

use common::*;

/// What Chromium saw.
struct Rendered {
    dom: String,
    console: Vec<String>,
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// The browser, or `None` after printing why the test is skipped; panics under CI.
fn browser() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium is not installed: the report rendering test cannot run"
        );
        eprintln!("notice: chromium not found on PATH; skipping the report rendering test");
    }
    found
}

fn render(browser: &Path, page: &Path) -> Rendered {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1024",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.canonicalize().unwrap().display()))
        // Files, not pipes: a full pipe would block the browser while this test waits for it.
        .stdout(Stdio::from(
            std::fs::File::create(profile.path().join("dom.html")).unwrap(),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(profile.path().join("log.txt")).unwrap(),
        ))
        .spawn()
        .expect("chromium starts");
    // Chromium exits by itself once the page has loaded; a hung browser fails the test instead
    // of blocking the suite.
    let mut waited = Duration::ZERO;
    while child.try_wait().unwrap().is_none() {
        assert!(
            waited < Duration::from_secs(120),
            "chromium did not finish within 120 s"
        );
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    let status = child.wait().unwrap();
    let log = String::from_utf8_lossy(&std::fs::read(profile.path().join("log.txt")).unwrap())
        .into_owned();
    assert!(status.success(), "chromium failed: {log}");
    Rendered {
        dom: String::from_utf8_lossy(&std::fs::read(profile.path().join("dom.html")).unwrap())
            .into_owned(),
        console: log
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_owned)
            .collect(),
    }
}

/// The root element's opening tag, where the script leaves its marks.
fn root_tag(dom: &str) -> &str {
    let start = dom.find("<html").expect("an html element");
    &dom[start..start + dom[start..].find('>').unwrap()]
}

fn backtest(cwd: &Path) -> PathBuf {
    let config = root().join("examples/sma-cross.toml");
    let out = rustrade(
        cwd,
        &["backtest", config.to_str().unwrap(), "--out", "r", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    cwd.join("r")
}

#[test]
fn report_renders_every_chart_without_console_errors() {
    let Some(browser) = browser() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let dir = backtest(cwd.path());
    let seen = render(&browser, &dir.join("report.html"));
    assert!(
        seen.console.is_empty(),
        "console output: {:#?}",
        seen.console
    );
    let tag = root_tag(&seen.dom);
    assert!(!tag.contains("data-error"), "{tag}");
    assert!(tag.contains("data-ok=\"1\""), "{tag}");
    assert!(tag.contains("data-charts=\"3\""), "{tag}");
    assert_eq!(
        seen.dom.matches("class=\"uplot").count(),
        3,
        "three uPlot charts"
    );
    assert!(seen.dom.contains("<canvas"), "charts draw on canvases");
}

#[test]
fn an_empty_chart_is_reported_as_an_error() {
    let Some(browser) = browser() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let dir = backtest(cwd.path());
    let path = dir.join("result.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    record["prices"][0]["time"] = serde_json::json!([]);
    record["prices"][0]["close"] = serde_json::json!([]);
    std::fs::write(&path, serde_json::to_string(&record).unwrap()).unwrap();
    let out = rustrade(cwd.path(), &["report", path.to_str().unwrap(), "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = render(&browser, &dir.join("report.html"));
    let tag = root_tag(&seen.dom);
    assert!(
        tag.contains("data-error=\"no data for the BTCUSD close chart\""),
        "{tag}"
    );
    assert!(!tag.contains("data-ok"), "{tag}");
}

#[test]
fn console_errors_are_detected() {
    let Some(browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>",
    )
    .unwrap();
    let seen = render(&browser, &page);
    assert!(
        seen.console.iter().any(|l| l.contains("undefinedFunction")),
        "a script error must show up as a CONSOLE line: {:#?}",
        seen.console
    );
}
