//! The bearer token of the ops endpoint's control routes.
//!
//! Taken from `RUSTRADE_OPS_TOKEN` or `[bot.ops] token`; when neither is set, read from the
//! token file next to the state file, or generated there at first start (32 random bytes from
//! the OS, hex) with `0600` permissions. The token is a [`Secret`]: it never reaches a log line,
//! an error or `Debug` output; only the file's path is shown.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rustrade::Secret;

use crate::config::Config;

/// A token and where it came from.
#[derive(Debug)]
pub(crate) struct Token {
    /// The token.
    pub(crate) secret: Secret,
    /// The file it was read from or written to; `None` when it came from the config or the
    /// environment.
    pub(crate) file: Option<PathBuf>,
}

/// A token that could not be read or stored. Names the file, never the token.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    /// The token file exists but cannot be read, or holds too short a token.
    #[error("ops token file {}: {why}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
    /// A new token could not be generated or written.
    #[error("ops token file {}: cannot create: {why}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
}

/// Where the generated token of `config`'s bot lives: `<state file>.ops-token`, or
/// `.rustrade/<bot name>.ops-token` beside the config file when there is no state file.
pub(crate) fn file_for(config: &Config) -> PathBuf {
    match &config.bot.state_file {
        Some(state) => {
            let mut name = state.as_os_str().to_owned();
            name.push(".ops-token");
            PathBuf::from(name)
        }
        None => config
            .path
            .parent()
            .unwrap_or(Path::new(""))
            .join(".rustrade")
            .join(format!("{}.ops-token", config.bot.name)),
    }
}

/// The configured token, else the one in `file`, else a new one written to `file`.
pub(crate) fn resolve(configured: Option<Secret>, file: &Path) -> Result<Token, TokenError> {
    if let Some(secret) = configured {
        return Ok(Token { secret, file: None });
    }
    match std::fs::read_to_string(file) {
        Ok(text) => {
            let text = text.trim();
            if text.len() < 16 {
                return Err(TokenError::Read {
                    path: file.to_owned(),
                    why: "holds fewer than 16 characters".into(),
                });
            }
            Ok(Token {
                secret: Secret::new(text),
                file: Some(file.to_owned()),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = generate().map_err(|why| TokenError::Write {
                path: file.to_owned(),
                why,
            })?;
            store(file, &secret).map_err(|e| TokenError::Write {
                path: file.to_owned(),
                why: e.to_string(),
            })?;
            tracing::info!(file = %file.display(), "generated an ops token");
            Ok(Token {
                secret,
                file: Some(file.to_owned()),
            })
        }
        Err(e) => Err(TokenError::Read {
            path: file.to_owned(),
            why: e.to_string(),
        }),
    }
}

/// 32 bytes of OS randomness, hex-encoded.
fn generate() -> Result<Secret, String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("no OS randomness (/dev/urandom): {e}"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Secret::new(hex))
}

/// Writes `secret` to a new file readable by its owner only.
fn store(path: &Path, secret: &Secret) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(secret.expose().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Whether `presented` (an `Authorization` header value) carries `token`, compared in time
/// independent of where they differ.
pub(crate) fn authorizes(presented: Option<&str>, token: &Secret) -> bool {
    let Some(given) = presented.and_then(|v| v.strip_prefix("Bearer ")) else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), token.expose().as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_is_stored_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state").join("bot.db.ops-token");
        let first = resolve(None, &file).unwrap();
        assert_eq!(first.file.as_deref(), Some(file.as_path()));
        assert_eq!(first.secret.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = resolve(None, &file).unwrap();
        assert_eq!(
            again.secret, first.secret,
            "the second start reads the same token"
        );
        let shown = format!("{first:?}");
        assert!(!shown.contains(first.secret.expose()), "{shown}");
    }

    #[test]
    fn only_the_exact_bearer_token_authorizes() {
        let t = Secret::new("0123456789abcdef");
        assert!(authorizes(Some("Bearer 0123456789abcdef"), &t));
        assert!(!authorizes(Some("Bearer 0123456789abcdeX"), &t));
        assert!(!authorizes(Some("Bearer 0123"), &t));
        assert!(!authorizes(Some("0123456789abcdef"), &t));
        assert!(!authorizes(None, &t));
    }
}
