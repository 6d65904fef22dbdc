//! `rustrade worker nats://host:4222`: runs the points `rustrade sweep --workers` publishes, one
//! at a time, until SIGINT or SIGTERM.
//!
//! Each job is pulled, its sweep prepared (files fetched by hash, cached; kept in memory for the
//! next job of the same sweep), the point run with `Sweep::evaluate` while in-progress acks
//! keep the job, the row published, and only then the job acknowledged. A signal hands the
//! current job back to the queue and stops.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustrade_backtest::sweep::SweepRow;
use rustrade_nats::{BlobStore, Lease, WorkQueue, connect};
use rustrade_strategies::Registry;

use super::Ui;
use crate::cli::WorkerArgs;
use crate::workers::{
    BLOB_BUCKET, BLOB_MAX_AGE, BlobCache, Prepared, SweepJob, nats_options, queue_config,
    shutdown_signal,
};

/// Test-only: after pulling this many jobs the worker holds the last one unacknowledged and
/// does nothing more, so a test can kill it with a job in hand.
const HOLD_AFTER_ENV: &str = "RUSTRADE_WORKER_HOLD_AFTER";

/// How long one pull waits for a job before asking again.
const PULL_WAIT: Duration = Duration::from_secs(2);

/// Runs the worker `args` describe until a signal.
pub(super) fn run(args: &WorkerArgs, ui: Ui, registry: &Registry) -> anyhow::Result<()> {
    let queue = queue_config(&args.queue)?;
    let cache_dir = match &args.cache {
        Some(dir) => dir.clone(),
        None => default_cache_dir(),
    };
    let hold_after = match std::env::var(HOLD_AFTER_ENV) {
        Ok(v) => Some(
            v.parse::<u64>()
                .with_context(|| format!("{HOLD_AFTER_ENV}: expected a count (got {v:?})"))?,
        ),
        Err(_) => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let client = connect(&nats_options(&args.url, "rustrade-worker")).await?;
        let store = BlobStore::open(client.clone(), BLOB_BUCKET, BLOB_MAX_AGE).await?;
        let cache = BlobCache::new(cache_dir, store)?;
        let queue = WorkQueue::open(client, queue).await?;
        let worker = queue.worker().await?;
        say(
            ui,
            &format!(
                "worker: taking jobs from queue {} at {}, cache {}",
                queue.config().name,
                args.url,
                cache.dir().display()
            ),
        );
        let mut shutdown = std::pin::pin!(shutdown_signal());
        let mut state = State {
            cache,
            registry,
            prepared: None,
            pulled: 0,
            done: 0,
        };
        loop {
            let next = tokio::select! {
                next = worker.next::<SweepJob>(PULL_WAIT) => next?,
                () = &mut shutdown => break,
            };
            let Some(lease) = next else { continue };
            state.pulled += 1;
            say(
                ui,
                &format!(
                    "pulled job {}/{} (delivery {})",
                    lease.batch(),
                    lease.id(),
                    lease.delivered()
                ),
            );
            if hold_after == Some(state.pulled) {
                say(
                    ui,
                    &format!(
                        "holding job {}/{} ({HOLD_AFTER_ENV})",
                        lease.batch(),
                        lease.id()
                    ),
                );
                std::future::pending::<()>().await;
            }
            if !state.work(lease, &mut shutdown, ui).await? {
                break;
            }
        }
        say(ui, &format!("worker: stopped after {} jobs", state.done));
        Ok(())
    })
}

/// What a worker keeps between jobs.
struct State<'r> {
    cache: BlobCache,
    registry: &'r Registry,
    prepared: Option<Arc<Prepared>>,
    pulled: u64,
    done: u64,
}

impl State<'_> {
    /// Runs one job to its end: completed, failed, or released when `shutdown` fires first
    /// (then `false`: stop).
    async fn work(
        &mut self,
        lease: Lease<SweepJob>,
        shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
        ui: Ui,
    ) -> anyhow::Result<bool> {
        let outcome = tokio::select! {
            outcome = lease.keep_alive(self.evaluate(lease.job())) => Some(outcome),
            () = shutdown.as_mut() => None,
        };
        match outcome {
            None => {
                lease.release().await?;
                say(ui, "interrupted: the current job went back to the queue");
                Ok(false)
            }
            Some(Ok(row)) => {
                lease.complete(&row).await?;
                self.done += 1;
                Ok(true)
            }
            Some(Err(e)) => {
                let reason = format!("{e:#}");
                say(
                    ui,
                    &format!("job {}/{} failed: {reason}", lease.batch(), lease.id()),
                );
                lease.fail(&reason).await?;
                Ok(true)
            }
        }
    }

    async fn evaluate(&mut self, job: &SweepJob) -> anyhow::Result<SweepRow> {
        let prepared = match &self.prepared {
            Some(p) if p.key == job.sweep_key() => Arc::clone(p),
            _ => {
                // One sweep's data in memory at a time.
                self.prepared = None;
                let p = Prepared::for_job(&self.cache, job, self.registry).await?;
                self.prepared = Some(Arc::clone(&p));
                p
            }
        };
        let (index, params) = (job.index, job.params.clone());
        let run = Arc::clone(&prepared);
        let row =
            tokio::task::spawn_blocking(move || run.sweep.evaluate(index, &params, &run.events))
                .await
                .context("running the point")??;
        Ok(row)
    }
}

/// `$XDG_CACHE_HOME/rustrade/blobs`, else `~/.cache/rustrade/blobs`, else the temporary folder's.
fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("rustrade").join("blobs")
}

/// A line on standard error unless quiet.
fn say(ui: Ui, text: &str) {
    if !ui.quiet {
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}
