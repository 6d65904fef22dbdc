//! All-or-nothing output: a run's files appear together in their folder, or not at all.
//!
//! Files are written into a fresh temporary folder beside the destination and the folder is then
//! renamed into place (a rename within one file system is atomic). An existing destination is
//! moved aside first and deleted after the swap, so a failed run leaves the previous results
//! untouched and never a half-written set.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Results could not be written.
#[derive(Debug)]
pub(crate) struct OutputError {
    path: PathBuf,
    action: &'static str,
    source: io::Error,
}

impl OutputError {
    /// A destination that exists and may not be overwritten.
    pub(crate) fn exists(path: &Path) -> Self {
        Self::new(
            path,
            "write",
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                "already exists (use --force to overwrite)",
            ),
        )
    }

    /// A destination that exists and is never overwritten; `hint` says what to do instead.
    pub(crate) fn taken(path: &Path, hint: &str) -> Self {
        Self::new(
            path,
            "write",
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("already exists ({hint})"),
            ),
        )
    }

    fn new(path: &Path, action: &'static str, source: io::Error) -> Self {
        Self {
            path: path.to_owned(),
            action,
            source,
        }
    }
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: cannot {}: {}",
            self.path.display(),
            self.action,
            self.source
        )
    }
}

impl std::error::Error for OutputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Makes `dir` hold exactly what `fill` writes into the staging folder it is given, replacing any
/// previous contents; if `fill` fails, nothing changes and its error is returned.
pub(crate) fn write_folder<F>(dir: &Path, fill: F) -> anyhow::Result<()>
where
    F: FnOnce(&Path) -> anyhow::Result<()>,
{
    let parent = parent_of(dir);
    std::fs::create_dir_all(&parent).map_err(|e| OutputError::new(&parent, "create folder", e))?;
    let staging = tempfile::Builder::new()
        .prefix(".rustrade-staging-")
        .tempdir_in(&parent)
        .map_err(|e| OutputError::new(&parent, "create a temporary folder", e))?;
    fill(staging.path())?;
    let old = if dir.exists() {
        let aside = tempfile::Builder::new()
            .prefix(".rustrade-previous-")
            .tempdir_in(&parent)
            .map_err(|e| OutputError::new(&parent, "create a temporary folder", e))?;
        let target = aside.path().join("previous");
        std::fs::rename(dir, &target).map_err(|e| OutputError::new(dir, "move aside", e))?;
        Some((aside, target))
    } else {
        None
    };
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, dir) {
        // Put the previous results back so a failed swap changes nothing.
        if let Some((_, previous)) = &old {
            let _ = std::fs::rename(previous, dir);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(OutputError::new(dir, "move results into place", e).into());
    }
    // `old`'s temporary folder (holding the previous results) is deleted on drop.
    drop(old);
    Ok(())
}

/// A buffered file `name` in `folder`, created for writing.
pub(crate) fn create(folder: &Path, name: &str) -> Result<BufWriter<File>, OutputError> {
    let path = folder.join(name);
    File::create(&path)
        .map(BufWriter::new)
        .map_err(|e| OutputError::new(&path, "create", e))
}

/// A failure writing file `name` in `folder`.
pub(crate) fn write_error(folder: &Path, name: &str, e: impl Into<io::Error>) -> OutputError {
    OutputError::new(&folder.join(name), "write", e.into())
}

/// Flushes `w`, naming `name` in the error.
pub(crate) fn finish(mut w: BufWriter<File>, folder: &Path, name: &str) -> Result<(), OutputError> {
    w.flush()
        .and_then(|()| w.get_ref().sync_all())
        .map_err(|e| OutputError::new(&folder.join(name), "write", e))
}

/// Writes one file atomically: a temporary file in the same folder, renamed over `path`.
pub(crate) fn write_file(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    let parent = parent_of(path);
    let mut tmp = tempfile::NamedTempFile::new_in(&parent)
        .map_err(|e| OutputError::new(&parent, "create a temporary file", e))?;
    tmp.write_all(contents)
        .map_err(|e| OutputError::new(path, "write", e))?;
    tmp.persist(path)
        .map_err(|e| OutputError::new(path, "move into place", e.error))?;
    Ok(())
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(
        list: &'static [(&'static str, &'static str)],
    ) -> impl FnOnce(&Path) -> anyhow::Result<()> {
        move |folder| {
            for (name, text) in list {
                let mut w = create(folder, name)?;
                w.write_all(text.as_bytes())?;
                finish(w, folder, name)?;
            }
            Ok(())
        }
    }

    #[test]
    fn replaces_a_folder_whole() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("runs/a");
        write_folder(&dir, files(&[("x.txt", "1"), ("y.txt", "2")])).unwrap();
        assert_eq!(std::fs::read(dir.join("x.txt")).unwrap(), b"1");
        std::fs::write(dir.join("stale.txt"), "old").unwrap();
        write_folder(&dir, files(&[("x.txt", "3")])).unwrap();
        assert_eq!(std::fs::read(dir.join("x.txt")).unwrap(), b"3");
        assert!(
            !dir.join("stale.txt").exists(),
            "the folder is replaced, not merged"
        );
        let leftovers: Vec<_> = std::fs::read_dir(root.path().join("runs"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("a")]);
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let err = write_folder(&dir, files(&[("ok.txt", ""), ("no/such/sub.txt", "")]));
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("sub.txt: cannot create")
        );
        assert!(!dir.exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn single_file_is_replaced() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("r.html");
        write_file(&p, b"a").unwrap();
        write_file(&p, b"b").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"b");
    }
}
