//! `rustrade relay` and a paper bot reading its stream, run as a user runs them: the real
//! binary against the local NATS server (skipped with a note when it is not reachable, unless
//! `RUSTRADE_REQUIRE_SERVERS=1`).
//!
//! Acceptance: the relay publishes the shipped daily Bitcoin file; a second relay run over the
//! same file stores nothing again; a paper bot reading the stream sees every bar once and fills
//! exactly as the backtest of the same data.

#![cfg(feature = "nats")]

mod common;

use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use common::*;
use rustrade_nats::testing;

/// The test server's address, or `None` after saying why it is skipped.
fn server_or_skip(test: &str) -> Option<String> {
    let url = testing::url();
    let host = url.trim_start_matches("nats://").to_owned();
    let reachable = host
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok());
    if reachable {
        return Some(url);
    }
    assert!(
        !testing::servers_required(),
        "NATS not reachable at {url}; {}=1 requires it",
        testing::REQUIRE_VAR
    );
    eprintln!("{test}: skipped: NATS not reachable at {url}");
    None
}

fn relay_config(url: &str, stream: &str, venue: &str, data: &Path) -> String {
    format!(
        r#"[relay]
nats_url = "{url}"
stream = "{stream}"
venue = "{venue}"
max_age = "1h"
duplicate_window = "2m"

[[market]]
symbol = "BTCUSD"
file = "{}"
interval = "1d"
"#,
        data.display()
    )
}

#[test]
fn a_paper_bot_on_the_relayed_stream_sees_every_bar_and_fills_as_the_backtest() {
    let Some(url) = server_or_skip("paper_on_relay") else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    let data = data("Bitcoin.csv");
    let rows = std::fs::read_to_string(&data).unwrap().lines().count() - 1;
    let stream = testing::unique_name("clirelay");
    let venue = format!("c{}", std::process::id());
    let relay_toml = cwd.path().join("relay.toml");
    std::fs::write(&relay_toml, relay_config(&url, &stream, &venue, &data)).unwrap();

    let relay = rustrade(
        cwd.path(),
        &["--json", "relay", relay_toml.to_str().unwrap()],
    );
    assert!(relay.status.success(), "{}", stderr(&relay));
    let status: serde_json::Value = serde_json::from_str(stdout(&relay).trim()).unwrap();
    assert_eq!(status["status"]["published"], rows, "{status}");
    assert_eq!(status["interrupted"], false);

    // Run again over the same file, as a restarted relay whose source backfills: nothing new.
    let again = rustrade(cwd.path(), &["relay", relay_toml.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    let text = stdout(&again);
    assert!(
        text.contains(&format!(
            "relay finished: 0 published, {rows} already in the stream"
        )),
        "{text}"
    );

    let bot_toml = cwd.path().join("bot.toml");
    let bot = format!(
        "{}\n[market_data]\nnats_url = \"{url}\"\nstream = \"{stream}\"\nvenue = \"{venue}\"\n\
         start = \"all\"\nstop_when_caught_up = true\n",
        config(&data)
    );
    std::fs::write(&bot_toml, bot).unwrap();
    let bt = rustrade(cwd.path(), &["backtest", bot_toml.to_str().unwrap()]);
    assert!(bt.status.success(), "{}", stderr(&bt));
    let paper = rustrade(cwd.path(), &["--json", "paper", bot_toml.to_str().unwrap()]);
    let out = stdout(&paper);
    assert!(paper.status.success(), "{}\n{out}", stderr(&paper));
    let summary = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("summary").is_some())
        .unwrap_or_else(|| panic!("no summary in {out}"));
    assert_eq!(
        summary["summary"]["events"], rows,
        "every bar, once: {summary}"
    );
    assert_eq!(summary["summary"]["interrupted"], false);

    let (expected, _) = backtest_fills(&cwd.path().join("runs/bot"));
    let got = paper_fills(&cwd.path().join("runs/bot-paper"));
    assert!(expected.len() > 10, "the example trades");
    assert_eq!(got, expected);
    delete_stream(&url, &stream);
}

#[test]
fn a_relay_config_error_names_file_line_and_key() {
    let cwd = tempfile::tempdir().unwrap();
    let path = cwd.path().join("relay.toml");
    std::fs::write(
        &path,
        "[relay]\nnats_url = \"nats://127.0.0.1:4222\"\nstream = \"has space\"\n\
         symbols = [\"BTCUSDT\"]\n[venue]\nexchange = \"binance\"\n",
    )
    .unwrap();
    let out = rustrade(cwd.path(), &["relay", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "relay.toml:3: relay.stream: must be letters, digits, `-` or `_` (got \"has space\")"
        ),
        "{err}"
    );
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "a wait on a real process, bounded by wall time"
)]
fn a_running_relay_reports_health_and_metrics_over_http() {
    let Some(url) = server_or_skip("relay_ops") else {
        return;
    };
    use std::io::{BufRead, BufReader, Read, Write};
    let cwd = tempfile::tempdir().unwrap();
    let data = data("Bitcoin.csv");
    let stream = testing::unique_name("cliops");
    let venue = format!("o{}", std::process::id());
    // One daily bar per second of wall time: the relay is still running while it is asked.
    let config = relay_config(&url, &stream, &venue, &data).replace(
        "duplicate_window = \"2m\"\n",
        "duplicate_window = \"2m\"\nspeed = \"86400\"\nops_listen = \"127.0.0.1:0\"\n",
    );
    let relay_toml = cwd.path().join("relay.toml");
    std::fs::write(&relay_toml, config).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rustrade"))
        .args(["relay", relay_toml.to_str().unwrap()])
        .current_dir(cwd.path())
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the relay prints its ops endpoint")
            .unwrap();
        if let Some(a) = line.strip_prefix("relay ops endpoint: http://") {
            break a.to_owned();
        }
    };
    let get = |path: &str| -> String {
        let mut c = TcpStream::connect(&addr).unwrap();
        write!(
            c,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        answer
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let health = loop {
        let answer = get("/health");
        if answer.starts_with("HTTP/1.1 200")
            && answer.contains("\"published\":")
            && !answer.contains("\"published\":0")
        {
            break answer;
        }
        assert!(std::time::Instant::now() < deadline, "{answer}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(health.contains("\"healthy\":true"), "{health}");
    assert!(
        health.contains(&format!("\"stream\":\"{stream}\"")),
        "{health}"
    );
    let metrics = get("/metrics");
    assert!(
        metrics.contains(&format!(
            "rustrade_relay_source_connected{{stream=\"{stream}\"}} 1"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("rustrade_relay_published_total{"),
        "{metrics}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    delete_stream(&url, &stream);
}

/// Removes the test's stream.
fn delete_stream(url: &str, stream: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = rustrade_nats::connect(&rustrade_nats::NatsOptions::new(url, "cli-test"))
            .await
            .unwrap();
        rustrade_nats::async_nats::jetstream::new(client)
            .delete_stream(stream)
            .await
            .unwrap();
    });
}
