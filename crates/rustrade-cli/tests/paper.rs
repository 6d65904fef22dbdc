//! `rustrade paper` and `rustrade status`, run as a user runs them: the real binary.
//!
//! - Acceptance: a paper bot replaying the example data at `--speed max` produces exactly the
//!   fills (time, side, price, quantity, fee) `rustrade backtest` produces on the same config.
//! - `status` against a running bot, its shutdown through the ops endpoint, and no trace of the
//!   ops token in anything the process prints.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use common::*;

#[test]
fn paper_on_the_replay_fills_exactly_as_the_backtest() {
    let cwd = tempfile::tempdir().unwrap();
    let config = root().join("examples/sma-cross.toml");
    let config = config.to_str().unwrap();
    let replay = data("Bitcoin.csv");
    let bt = rustrade(cwd.path(), &["backtest", config]);
    assert!(bt.status.success(), "{}", stderr(&bt));
    let paper = rustrade(
        cwd.path(),
        &[
            "paper",
            config,
            "--replay",
            replay.to_str().unwrap(),
            "--speed",
            "max",
        ],
    );
    assert!(paper.status.success(), "{}", stderr(&paper));
    let text = stdout(&paper);
    for label in [
        "replay complete",
        "Fills",
        "Trades",
        "Final equity",
        "fills.csv",
    ] {
        assert!(text.contains(label), "missing {label}: {text}");
    }

    assert_same_fills(
        &cwd.path().join("runs/sma-cross"),
        &cwd.path().join("runs/sma-cross-paper"),
    );
}

/// Asserts the paper run in `paper_dir` filled exactly as the backtest in `backtest_dir` (every
/// fill's time, side, price, quantity and fee) and summed up the same; returns the fills.
fn assert_same_fills(backtest_dir: &Path, paper_dir: &Path) -> Vec<FillRow> {
    let (expected, result) = backtest_fills(backtest_dir);
    let got = paper_fills(paper_dir);
    assert!(expected.len() > 10, "the example trades");
    for (i, (b, p)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(b, p, "fill {i} (backtest left, paper right)");
    }
    assert_eq!(expected.len(), got.len(), "number of fills");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(paper_dir.join("paper.json")).unwrap())
            .unwrap();
    assert_eq!(summary["interrupted"], false);
    assert_eq!(summary["events"], result["events"]);
    assert_eq!(
        summary["trades"].as_u64(),
        Some(result["trades"].as_array().unwrap().len() as u64)
    );
    assert_eq!(summary["realised_pnl"], result["realised_pnl"]);
    assert_eq!(summary["fees_paid"], result["fees_paid"]);
    let (a, b) = (
        summary["final_equity"].as_f64().unwrap(),
        result["final_equity"].as_f64().unwrap(),
    );
    assert!((a - b).abs() < 1e-6 * b.abs(), "final equity {a} vs {b}");
    got
}

/// A loopback HTTP server answering every request `200`, keeping each request's JSON body.
struct MockWebhook {
    addr: String,
    received: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
}

impl MockWebhook {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let keep = Arc::clone(&keep);
                std::thread::spawn(move || serve_one(stream, &keep));
            }
        });
        Self { addr, received }
    }

    fn messages(&self) -> Vec<(String, serde_json::Value)> {
        self.received.lock().unwrap().clone()
    }
}

/// Reads one request (request line, headers, `Content-Length` body), keeps its path and body,
/// answers `200` and closes.
fn serve_one(stream: std::net::TcpStream, keep: &Mutex<Vec<(String, serde_json::Value)>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let json = serde_json::from_slice(&body).unwrap();
    keep.lock().unwrap().push((path, json));
    let mut stream = reader.into_inner();
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
}

#[test]
fn the_paper_example_notifies_its_fills_to_a_webhook_and_fills_as_the_backtest() {
    let cwd = tempfile::tempdir().unwrap();
    let hook = MockWebhook::start();
    // The shipped example, its webhook pointed at the mock; the replay names the shipped data.
    let example = std::fs::read_to_string(root().join("examples/sma-cross-paper.toml")).unwrap();
    assert!(example.contains("127.0.0.1:8765"), "the example's webhook");
    let config = cwd.path().join("sma-cross-paper.toml");
    std::fs::write(&config, example.replace("127.0.0.1:8765", &hook.addr)).unwrap();
    let config = config.to_str().unwrap();
    let replay = data("Bitcoin.csv");
    let replay = replay.to_str().unwrap();

    let bt = rustrade(cwd.path(), &["backtest", config, "--data", replay]);
    assert!(bt.status.success(), "{}", stderr(&bt));
    let paper = rustrade(
        cwd.path(),
        &["paper", config, "--replay", replay, "--speed", "max"],
    );
    assert!(paper.status.success(), "{}", stderr(&paper));
    assert!(
        stdout(&paper).contains("replay complete"),
        "{}",
        stdout(&paper)
    );
    let fills = assert_same_fills(
        &cwd.path().join("runs/sma-cross-paper"),
        &cwd.path().join("runs/sma-cross-paper-paper"),
    );

    // Every fill reached the webhook: alone, or counted in a coalesced "N more events" message
    // when the rate limit held it back. Lone ones carry the fill, in the order filled.
    let messages = hook.messages();
    let mut singles = Vec::new();
    let mut counted = 0;
    for (path, m) in &messages {
        assert_eq!(path, "/rustrade");
        assert_eq!(m["bot"], "sma-paper", "{m}");
        match m["kind"].as_str().unwrap() {
            "fill" => {
                let d = &m["details"];
                assert_eq!(d["symbol"], "BTCUSD", "{m}");
                singles.push((
                    d["side"].as_str().unwrap().to_owned(),
                    d["price"].as_f64().unwrap(),
                    d["quantity"].as_f64().unwrap(),
                    d["fee"].as_f64().unwrap(),
                ));
            }
            "coalesced" => counted += m["details"]["kinds"]["fill"].as_u64().unwrap_or(0),
            other => panic!("unexpected {other} message: {m}"),
        }
    }
    assert!(!singles.is_empty(), "fill messages arrived: {messages:?}");
    assert_eq!(
        singles.len() as u64 + counted,
        fills.len() as u64,
        "every fill is notified or counted: {messages:?}"
    );
    let mut filled = fills
        .iter()
        .map(|(_, side, price, quantity, fee)| (side.clone(), *price, *quantity, *fee));
    for single in &singles {
        assert!(
            filled.any(|f| &f == single),
            "{single:?} is one of the run's fills, in order"
        );
    }
}

#[test]
fn paper_refuses_a_bad_speed_and_an_unknown_bot_key() {
    let cwd = tempfile::tempdir().unwrap();
    let config = root().join("examples/sma-cross.toml");
    let out = rustrade(
        cwd.path(),
        &["paper", config.to_str().unwrap(), "--speed", "fast"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "rustrade: error: --speed fast: expected `max` or a number > 0 (got \"fast\")\n"
    );
    let file = cwd.path().join("bot.toml");
    std::fs::write(
        &file,
        format!("{}\n[bot]\nname = \"b\"\nstate = \"x\"\n", config_text()),
    )
    .unwrap();
    let out = rustrade(cwd.path(), &["paper", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("bot.toml:") && err.contains("bot.state: unknown field `state`"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

fn config_text() -> String {
    config(&data("Bitcoin.csv"))
}

/// A `GET`/`POST` over a fresh connection; returns (status, body).
fn http(addr: &str, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n{auth}\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

/// Starts a paper bot replaying at real speed (daily bars: it stays up) with its endpoint on a
/// free loopback port; returns the process and the endpoint's address, read from its output.
fn start_slow_bot(
    cwd: &Path,
    token: &str,
) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let file = cwd.join("bot.toml");
    std::fs::write(
        &file,
        format!(
            "{}\n[bot]\nname = \"ops-test\"\nstate_file = \"state/bot.db\"\n\n[bot.ops]\nlisten = \"127.0.0.1:0\"\n",
            config_text()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rustrade"))
        .args(["paper", file.to_str().unwrap(), "--speed", "1"])
        .current_dir(cwd)
        .env("RUST_LOG", "debug")
        .env("RUSTRADE_OPS_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the bot exited early"
        );
        if let Some(rest) = line.strip_prefix("ops endpoint: http://") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    (child, addr, out)
}

#[test]
fn status_shows_a_running_bot_and_the_ops_shutdown_stops_it_without_leaking_the_token() {
    let cwd = tempfile::tempdir().unwrap();
    let token = "integration-token-0123456789abcdef";
    let (mut child, addr, mut out) = start_slow_bot(cwd.path(), token);

    // The first event is replayed at once; later ones are a day apart at --speed 1.
    let mut status = String::new();
    for _ in 0..1_000 {
        let s = rustrade(
            cwd.path(),
            &["status", "--endpoint", &format!("http://{addr}")],
        );
        assert!(s.status.success(), "{}", stderr(&s));
        status = stdout(&s);
        if status.contains("events 1 ") {
            break;
        }
    }
    assert!(
        status.contains("events 1 "),
        "the first event reached the brain: {status}"
    );
    assert!(
        status.contains(&format!("bot at http://{addr}: healthy")),
        "{status}"
    );
    assert!(status.contains("execution[sma_cross]"), "{status}");
    assert!(
        status.contains("BTCUSD") && status.contains("quantity 0"),
        "{status}"
    );
    let json = rustrade(
        cwd.path(),
        &["status", "--json", "--endpoint", &format!("http://{addr}/")],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(v["health"]["healthy"], true);
    assert_eq!(v["positions"][0]["symbol"], "BTCUSD");

    let (code, body) = http(&addr, "GET", "/metrics", None);
    assert_eq!(code, 200);
    let mut seen = body;
    let (code, body) = http(
        &addr,
        "POST",
        "/control/shutdown",
        Some("wrong-token-0123456789"),
    );
    assert_eq!(code, 401, "{body}");
    seen.push_str(&body);
    let (code, body) = http(&addr, "POST", "/control/shutdown", Some(token));
    assert_eq!(code, 202, "{body}");
    seen.push_str(&body);

    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit {exit:?}");
    out.read_to_string(&mut seen).unwrap();
    assert!(
        seen.contains("stopped before the end of the data"),
        "{seen}"
    );
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("ops control request"),
        "debug logs captured: {logs}"
    );
    seen.push_str(&logs);
    assert!(!seen.contains(token), "the token leaked:\n{seen}");
    assert!(
        !cwd.path().join("state/bot.db.ops-token").exists(),
        "a token from the environment is not written to disk"
    );

    let down = rustrade(
        cwd.path(),
        &["status", "--endpoint", &format!("http://{addr}")],
    );
    assert!(!down.status.success(), "nothing listens any more");
    assert_eq!(stderr(&down).lines().count(), 1, "{}", stderr(&down));
}

#[test]
fn without_a_token_one_is_generated_next_to_the_state_file() {
    let cwd = tempfile::tempdir().unwrap();
    let (mut child, addr, _out) = start_slow_bot_without_token(cwd.path());
    let file = cwd.path().join("state/bot.db.ops-token");
    let token = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert_eq!(token.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(http(&addr, "POST", "/control/shutdown", None).0, 401);
    assert_eq!(
        http(&addr, "POST", "/control/shutdown", Some(&token)).0,
        202
    );
    assert!(child.wait().unwrap().success());
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(logs.contains("generated an ops token"), "{logs}");
    assert!(!logs.contains(&token), "the token leaked: {logs}");
}

fn start_slow_bot_without_token(
    cwd: &Path,
) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let file = cwd.join("bot.toml");
    std::fs::write(
        &file,
        format!(
            "{}\n[bot]\nname = \"ops-test\"\nstate_file = \"state/bot.db\"\n\n[bot.ops]\n",
            config_text()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rustrade"))
        .args(["paper", file.to_str().unwrap(), "--speed", "1"])
        .current_dir(cwd)
        .env("RUST_LOG", "info")
        .env_remove("RUSTRADE_OPS_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the bot exited early"
        );
        if let Some(rest) = line.strip_prefix("ops endpoint: http://") {
            assert!(rest.contains("state/bot.db.ops-token"), "{rest}");
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    (child, addr, out)
}
