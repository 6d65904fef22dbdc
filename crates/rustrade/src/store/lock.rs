//! [`WriterLock`]: the single-writer guard of a file-backed store.
//!
//! The lock is an OS advisory lock ([`File::try_lock`]) on a sidecar `<file>.lock`, taken before
//! the store touches its file and held until the store (every clone of it) is dropped. The OS
//! drops the lock with the process, so a lock file left by a killed bot does not block: only its
//! text remains, and the next holder overwrites it. The text names the holder (`pid=`,
//! `process=`, `since=` lines) so a refused open can say who has the file.
//!
//! The sidecar is never deleted: removing it while another process has it open would let two
//! processes lock two different files of the same name.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rustrade_core::StoreError;

use crate::clock::{Clock, SystemClock};

/// An exclusive lock on a store's sidecar lock file; released on drop.
#[derive(Debug)]
pub(crate) struct WriterLock {
    file: File,
    path: PathBuf,
}

impl WriterLock {
    /// Locks `<store>.lock` for the store at `store`, or fails with [`StoreError::Locked`]
    /// naming `store` and the holder when another writer (in this process or another) has it.
    pub(crate) fn acquire(store: &Path) -> Result<Self, StoreError> {
        let path = lock_path(store);
        let io = |what: &str, e: std::io::Error| {
            StoreError::Backend(format!("{what} lock file {}: {e}", path.display()))
        };
        // Not truncated on open: the text belongs to the holder until the lock is ours.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("open", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let text = read_holder(&path);
                return Err(StoreError::Locked {
                    path: store.display().to_string(),
                    pid: holder_pid(&text),
                    holder: describe_holder(&text),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io("lock", e)),
        }
        let text = holder_text();
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(|e| io("write", e))?;
        Ok(Self { file, path })
    }

    /// The sidecar lock file.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // Clearing the text first means a free lock file says nobody holds it; closing the
        // file would release the lock anyway, unlocking only makes it explicit.
        if let Err(e) = self.file.set_len(0) {
            tracing::debug!(path = %self.path.display(), error = %e, "lock file not cleared");
        }
        if let Err(e) = self.file.unlock() {
            tracing::debug!(path = %self.path.display(), error = %e, "lock not released early");
        }
    }
}

/// `<store>.lock`, beside the store's file.
pub(crate) fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// What this process writes into a lock file it holds.
fn holder_text() -> String {
    let process = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".to_owned());
    format!(
        "pid={}\nprocess={process}\nsince={}\n",
        std::process::id(),
        SystemClock.now()
    )
}

/// The holder's text, empty if it cannot be read (the holder may not have written it yet).
fn read_holder(path: &Path) -> String {
    let mut text = String::new();
    match File::open(path).and_then(|f| f.take(4096).read_to_string(&mut text)) {
        Ok(_) => text,
        Err(_) => String::new(),
    }
}

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn holder_pid(text: &str) -> Option<u32> {
    field(text, "pid").and_then(|p| p.parse().ok())
}

/// `pid 42 (rustrade) since 2025-01-02T03:04:05Z`, or what is known of it.
fn describe_holder(text: &str) -> String {
    let Some(pid) = field(text, "pid") else {
        return "holder unknown: its lock file names no pid".to_owned();
    };
    let mut out = format!("pid {pid}");
    if let Some(process) = field(text, "process") {
        out.push_str(&format!(" ({process})"));
    }
    if let Some(since) = field(text, "since") {
        out.push_str(&format!(" since {since}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_in_the_same_process_is_refused_naming_file_and_pid() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("bot.db");
        let first = WriterLock::acquire(&store).unwrap();
        assert_eq!(first.path(), dir.path().join("bot.db.lock"));
        let err = WriterLock::acquire(&store).unwrap_err();
        let StoreError::Locked { path, pid, holder } = &err else {
            panic!("expected Locked, got {err:?}");
        };
        assert_eq!(path, &store.display().to_string());
        assert_eq!(*pid, Some(std::process::id()));
        assert!(
            holder.starts_with(&format!("pid {} (", std::process::id())),
            "{holder}"
        );
        assert!(holder.contains(" since "), "{holder}");
        let shown = err.to_string();
        assert!(shown.contains(&store.display().to_string()), "{shown}");
        assert!(shown.contains(&std::process::id().to_string()), "{shown}");
        drop(first);
        let again = WriterLock::acquire(&store).unwrap();
        drop(again);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("bot.db.lock")).unwrap(),
            "",
            "a released lock file names nobody"
        );
    }

    #[test]
    fn stale_holder_text_does_not_block_and_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.json");
        let stale = "pid=999999999\nprocess=killed-bot\nsince=2020-01-01T00:00:00Z\n";
        std::fs::write(lock_path(&store), stale).unwrap();
        let lock = WriterLock::acquire(&store).unwrap();
        let text = std::fs::read_to_string(lock.path()).unwrap();
        assert!(
            text.starts_with(&format!("pid={}\n", std::process::id())),
            "{text}"
        );
        assert!(!text.contains("killed-bot"), "{text}");
    }

    #[test]
    fn unreadable_holder_text_is_described_not_invented() {
        assert_eq!(holder_pid("garbage"), None);
        assert_eq!(
            describe_holder(""),
            "holder unknown: its lock file names no pid"
        );
        assert_eq!(describe_holder("pid=7\n"), "pid 7");
        assert_eq!(holder_pid("pid=x"), None);
    }

    #[test]
    fn a_missing_directory_is_a_backend_error_naming_the_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("missing").join("bot.db");
        let err = WriterLock::acquire(&store).unwrap_err();
        match err {
            StoreError::Backend(msg) => assert!(msg.contains("bot.db.lock"), "{msg}"),
            other => panic!("expected Backend, got {other:?}"),
        }
    }
}
