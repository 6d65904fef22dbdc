//! A worker's view of a job's sweep: the files it names, fetched and cached by hash
//! ([`BlobCache`]), and the config, sweep and data rebuilt from them ([`Prepared`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rustrade_backtest::sweep::Sweep;
use rustrade_core::MarketEvent;
use rustrade_nats::{BlobStore, sha256_hex};
use rustrade_strategies::Registry;

use super::SweepJob;
use crate::commands::{load_data, sweep_of};
use crate::config::{self, Config, Overrides};

/// Blobs fetched from the store, kept in a folder under their hash.
pub(crate) struct BlobCache {
    dir: PathBuf,
    store: BlobStore,
}

/// A job's sweep, ready to run points: built once per sweep on a worker.
pub(crate) struct Prepared {
    /// The job fields that identify the sweep.
    pub(crate) key: (String, Vec<String>, Vec<String>),
    /// The sweep, as the coordinator's config defines it.
    pub(crate) sweep: Sweep,
    /// The replayed data.
    pub(crate) events: Vec<MarketEvent>,
}

impl BlobCache {
    /// A cache in `dir` (created when missing) over `store`.
    pub(crate) fn new(dir: PathBuf, store: BlobStore) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the cache folder {}", dir.display()))?;
        // Absolute: the config's data paths are set to files in it, and a relative path there
        // would be taken relative to the config's folder.
        let dir = std::fs::canonicalize(&dir)
            .with_context(|| format!("resolving the cache folder {}", dir.display()))?;
        Ok(Self { dir, store })
    }

    /// The cache folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file holding blob `key`: the cached one when its bytes still hash to `key`, else
    /// fetched (the store refuses bytes that do not) and written in place atomically.
    pub(crate) async fn file(&self, key: &str) -> anyhow::Result<PathBuf> {
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!("blob key {key:?} is not a SHA-256 hex digest");
        }
        let path = self.dir.join(key);
        if let Ok(bytes) = std::fs::read(&path)
            && sha256_hex(&bytes) == key
        {
            return Ok(path);
        }
        let bytes = self.store.get(key).await?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)
            .with_context(|| format!("writing into {}", self.dir.display()))?;
        std::io::Write::write_all(&mut tmp, &bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        tmp.persist(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

impl Prepared {
    /// Fetches the job's config and data files and rebuilds its sweep: the coordinator's config
    /// text, its `--param` flags, each `[[market]]` file replaced by the fetched copy of the
    /// same bytes. Parsing and loading run on a blocking thread.
    pub(crate) async fn for_job(
        cache: &BlobCache,
        job: &SweepJob,
        registry: &Registry,
    ) -> anyhow::Result<Arc<Self>> {
        let config_file = cache.file(&job.config).await?;
        let mut data = Vec::with_capacity(job.data.len());
        for key in &job.data {
            data.push(cache.file(key).await?);
        }
        let shown = cache.dir().join(&job.config_name);
        let (job, registry) = (job.clone(), registry.clone());
        tokio::task::spawn_blocking(move || {
            Self::build(&config_file, &shown, &data, &job, &registry).map(Arc::new)
        })
        .await
        .context("preparing the sweep")?
    }

    fn build(
        config_file: &Path,
        shown: &Path,
        data: &[PathBuf],
        job: &SweepJob,
        registry: &Registry,
    ) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(config_file)
            .with_context(|| format!("reading {}", config_file.display()))?;
        let mut raw = config::parse(shown, &text)?;
        if raw.market.len() != data.len() {
            anyhow::bail!(
                "{}: {} [[market]] tables but the job names {} data files",
                job.config_name,
                raw.market.len(),
                data.len()
            );
        }
        for (market, file) in raw.market.iter_mut().zip(data) {
            market.file.clone_from(file);
        }
        let overrides = Overrides {
            params: job.param_flags.clone(),
            ..Overrides::default()
        };
        let config = Config::from_raw(shown, &text, raw, &overrides, registry)?;
        let spec = config
            .sweep
            .as_ref()
            .with_context(|| format!("{}: no [sweep] table", job.config_name))?;
        let sweep = sweep_of(&config, spec, indicatif::ProgressBar::hidden())?;
        let events = load_data(&config)?;
        Ok(Self {
            key: job.sweep_key(),
            sweep,
            events,
        })
    }
}
