//! `rustrade sweep --workers` against the local NATS server with real `rustrade worker`
//! processes: a worker killed (SIGKILL) with a job in hand, its job delivered again to the
//! other worker, and the table byte for byte the local sweep's.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

/// A child process killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `rustrade args...` in `cwd` with `env`, its standard error sent line by line to the
/// returned channel.
fn spawn(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (Running, mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rustrade"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the rustrade binary runs");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Running(child), rx)
}

/// The first line from `rx` containing `needle`, within `within`; the lines seen are kept in
/// `seen`.
fn wait_for(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) -> String {
    let within = Duration::from_secs(120);
    loop {
        match rx.recv_timeout(within) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
            Err(e) => panic!("no line with {needle:?} ({e}); seen: {seen:#?}"),
        }
    }
}

fn server() -> Option<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(rustrade_nats::testing::client_or_skip("sweep_workers"))
        .map(|_| rustrade_nats::testing::url())
}

fn delete_queue(name: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = rustrade_nats::testing::client_or_skip("sweep_workers_cleanup")
            .await
            .unwrap();
        let queue =
            rustrade_nats::WorkQueue::open(client, rustrade_nats::WorkQueueConfig::new(name))
                .await
                .unwrap();
        queue.delete().await.unwrap();
    });
}

#[test]
fn a_sweep_over_two_workers_one_killed_writes_the_local_table() {
    let Some(url) = server() else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    // 40 points, a walk-forward split, and the data file beside the config.
    std::fs::copy(data("Bitcoin.csv"), cwd.path().join("btc.csv")).unwrap();
    let text = config(Path::new("btc.csv"))
        .replace(
            "[sweep.grid]\nfast = [5, 10]\nslow = [20, 30]",
            "[sweep]\nwalk_forward = 0.7\n[sweep.grid]\nfast = [3, 4, 5, 6, 7, 8, 9, 10]\nslow = [20, 25, 30, 35, 40]",
        );
    assert!(text.contains("walk_forward"), "{text}");
    std::fs::write(cwd.path().join("c.toml"), text).unwrap();

    let local = rustrade(cwd.path(), &["sweep", "c.toml", "--out", "local", "-q"]);
    assert!(local.status.success(), "{}", stderr(&local));

    let queue = rustrade_nats::testing::unique_name("sweepworkers");
    let queue_args = ["--queue", queue.as_str(), "--ack-wait", "1"];
    let mut sweep_args = vec![
        "sweep",
        "c.toml",
        "--out",
        "spread",
        "--workers",
        url.as_str(),
    ];
    sweep_args.extend(queue_args);
    let (mut coordinator, coordinator_err) = spawn(cwd.path(), &sweep_args, &[]);

    // The first worker runs two points, then holds its third unacknowledged.
    let mut worker_args = vec!["worker", url.as_str(), "--cache", "cache-a"];
    worker_args.extend(queue_args);
    let (mut doomed, doomed_err) = spawn(
        cwd.path(),
        &worker_args,
        &[("RUSTRADE_WORKER_HOLD_AFTER", "3")],
    );
    let mut seen_a = Vec::new();
    let held = wait_for(&doomed_err, "holding job", &mut seen_a);
    let held_job = held
        .split_whitespace()
        .nth(2)
        .expect("holding job <batch>/<id>")
        .to_owned();

    let mut worker_args = vec!["worker", url.as_str(), "--cache", "cache-b"];
    worker_args.extend(queue_args);
    let (survivor, survivor_err) = spawn(cwd.path(), &worker_args, &[]);
    let mut seen_b = Vec::new();
    wait_for(&survivor_err, "pulled job", &mut seen_b);
    // SIGKILL, with the job in hand: nothing acknowledges it.
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();

    let redelivered = wait_for(
        &survivor_err,
        &format!("pulled job {held_job} (delivery 2)"),
        &mut seen_b,
    );
    assert!(redelivered.contains(&held_job));
    let status = wait_exit(&mut coordinator.0, Duration::from_secs(120));
    let mut coordinator_lines = Vec::new();
    while let Ok(line) = coordinator_err.try_recv() {
        coordinator_lines.push(line);
    }
    assert!(status.success(), "coordinator: {coordinator_lines:#?}");

    for file in ["sweep.csv", "sweep.json"] {
        let local = std::fs::read(cwd.path().join("local").join(file)).unwrap();
        let spread = std::fs::read(cwd.path().join("spread").join(file)).unwrap();
        assert!(
            local == spread,
            "{file} differs:\n--- local\n{}\n--- spread\n{}",
            String::from_utf8_lossy(&local),
            String::from_utf8_lossy(&spread)
        );
    }
    assert_eq!(
        std::fs::read_to_string(cwd.path().join("spread/sweep.csv"))
            .unwrap()
            .lines()
            .count(),
        41
    );

    // SIGTERM stops the surviving worker cleanly.
    let pid = survivor.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let mut survivor = survivor;
    let status = wait_exit(&mut survivor.0, Duration::from_secs(30));
    wait_for(&survivor_err, "worker: stopped after", &mut seen_b);
    assert!(status.success(), "{seen_b:#?}");
    delete_queue(&queue);
}

/// The child's exit status, polled until `within` has passed.
fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            waited < within,
            "the process did not exit within {within:?}"
        );
        std::thread::sleep(step);
        waited += step;
    }
}

#[test]
fn a_workers_url_with_credentials_is_refused_without_showing_them() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("c.toml"), config(&data("Bitcoin.csv"))).unwrap();
    let out = rustrade(
        cwd.path(),
        &[
            "sweep",
            "c.toml",
            "--workers",
            "nats://bob:hunter2@127.0.0.1:4222",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("credentials") && !err.contains("hunter2"),
        "{err}"
    );
    assert!(!cwd.path().join("runs").exists(), "nothing written");
}
