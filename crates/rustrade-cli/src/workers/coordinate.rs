//! [`coordinate`]: a sweep's points run by `rustrade worker` processes, ranked here.

use std::io::Write;

use anyhow::Context;
use indicatif::ProgressBar;
use rustrade_backtest::sweep::{Params, Sweep, SweepResult, SweepRow};
use rustrade_core::MarketEvent;
use rustrade_nats::{BlobStore, WorkQueue, connect};

use super::{BLOB_BUCKET, BLOB_MAX_AGE, SweepJob, nats_options, queue_config};
use crate::cli::QueueArgs;
use crate::commands::Ui;
use crate::config::{Config, Overrides, SweepSpec};

/// What a distributed sweep needs from the command line and the loaded config.
pub(crate) struct Coordination<'a> {
    /// The NATS server.
    pub(crate) url: &'a str,
    /// The work queue.
    pub(crate) queue: &'a QueueArgs,
    /// The loaded config (its file and data files are what the workers replay).
    pub(crate) config: &'a Config,
    /// The command line's overrides (the workers apply its `--param` flags too).
    pub(crate) overrides: &'a Overrides,
    /// The config's `[sweep]`.
    pub(crate) spec: &'a SweepSpec,
    /// The sweep, for its points, split and ranking rule.
    pub(crate) sweep: &'a Sweep,
    /// The loaded data, to place the walk-forward split as a local sweep does.
    pub(crate) events: &'a [MarketEvent],
    /// Backtests per point (2 with a walk-forward split), for the progress bar.
    pub(crate) per_point: usize,
}

/// Publishes every point of the sweep as a job, waits for every row and ranks them: the result
/// a local `Sweep::run` gives. Interrupted (SIGINT, SIGTERM), it withdraws the remaining jobs.
pub(crate) fn coordinate(
    c: &Coordination<'_>,
    bar: &ProgressBar,
    ui: Ui,
) -> anyhow::Result<SweepResult> {
    // Before anything is published: the same refusal a local sweep gives for a bad split.
    let split_time = c.sweep.split_time(c.events)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let rows = runtime.block_on(run(c, bar, ui))?;
    Ok(c.sweep.rank(rows, split_time))
}

async fn run(c: &Coordination<'_>, bar: &ProgressBar, ui: Ui) -> anyhow::Result<Vec<SweepRow>> {
    let client = connect(&nats_options(c.url, "rustrade-sweep")).await?;
    let blobs = BlobStore::open(client.clone(), BLOB_BUCKET, BLOB_MAX_AGE).await?;
    let config_bytes = std::fs::read(&c.config.path)
        .with_context(|| format!("reading {}", c.config.path.display()))?;
    let config_hash = blobs.put(&config_bytes).await?;
    let mut data = Vec::with_capacity(c.config.markets.len());
    for m in &c.config.markets {
        let bytes =
            std::fs::read(&m.file).with_context(|| format!("reading {}", m.file.display()))?;
        data.push(blobs.put(&bytes).await?);
    }
    let queue = WorkQueue::open(client, queue_config(c.queue)?).await?;
    let batch_id = queue.new_batch_id();
    let points = c.sweep.points(c.spec.search);
    let config_name = c
        .config
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rustrade.toml".to_owned());
    let jobs = points.iter().enumerate().map(|(index, params)| {
        (
            index as u64,
            SweepJob {
                index,
                params: params.clone(),
                config_name: config_name.clone(),
                config: config_hash.clone(),
                data: data.clone(),
                param_flags: c.overrides.params.clone(),
            },
        )
    });
    let batch = queue.submit(&batch_id, jobs).await?;
    note(
        ui,
        &format!(
            "sweep {batch_id}: {} points on queue {}, waiting for `rustrade worker {}`",
            batch.len(),
            queue.config().name,
            c.url
        ),
    );
    let collected = tokio::select! {
        rows = collect(&queue, &batch, &points, bar, c.per_point) => rows,
        () = super::shutdown_signal() => Err(anyhow::anyhow!(
            "interrupted: the sweep's remaining points were withdrawn"
        )),
    };
    if let Err(e) = queue.clear(&batch_id).await {
        note(ui, &format!("sweep {batch_id}: leftovers not removed: {e}"));
    }
    collected
}

async fn collect(
    queue: &WorkQueue,
    batch: &rustrade_nats::Batch,
    points: &[Params],
    bar: &ProgressBar,
    per_point: usize,
) -> anyhow::Result<Vec<SweepRow>> {
    let mut results = queue.collect::<SweepRow>(batch).await?;
    let mut rows = Vec::with_capacity(points.len());
    while let Some(next) = results.next().await {
        let (id, row) = next?;
        let expected = usize::try_from(id).ok().and_then(|i| points.get(i));
        if row.index as u64 != id || expected != Some(&row.params) {
            anyhow::bail!(
                "a worker answered job {id} with point {} {:?}: not this sweep's point",
                row.index,
                row.params
            );
        }
        rows.push(row);
        bar.inc(per_point as u64);
    }
    Ok(rows)
}

/// A line on standard error, unless quiet or JSON output was asked for.
fn note(ui: Ui, text: &str) {
    if ui.progress() {
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}
