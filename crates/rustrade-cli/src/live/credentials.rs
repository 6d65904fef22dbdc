//! API credentials of `rustrade live`: from the environment, never from the config file.
//!
//! `RUSTRADE_BINANCE_API_KEY` names the key; the signing secret is either
//! `RUSTRADE_BINANCE_API_SECRET` (HMAC) or `RUSTRADE_BINANCE_ED25519_PEM`, the path of an Ed25519
//! private key in PEM. The key file must be readable by its owner only (no group or other
//! permission bits), as `ssh` requires of its keys. Every value is held as a `Secret`.

use std::path::Path;

use anyhow::{Context, bail};
use rustrade_binance::Credentials;

/// The API key's variable.
pub(crate) const KEY_ENV: &str = "RUSTRADE_BINANCE_API_KEY";
/// The HMAC secret's variable.
pub(crate) const SECRET_ENV: &str = "RUSTRADE_BINANCE_API_SECRET";
/// The Ed25519 key file's variable.
pub(crate) const PEM_ENV: &str = "RUSTRADE_BINANCE_ED25519_PEM";

/// Reads the credentials through `var` (the environment in the binary, a map in tests).
pub(crate) fn from_env(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Credentials> {
    let non_blank = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let Some(key) = non_blank(KEY_ENV) else {
        bail!("{KEY_ENV} is not set: live trading needs the venue's API key");
    };
    if let Some(path) = non_blank(PEM_ENV) {
        let path = Path::new(path.trim());
        check_private(path)?;
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("{PEM_ENV}: reading {}", path.display()))?;
        return Credentials::ed25519_from_pem(key.trim(), &pem).with_context(|| {
            format!(
                "{PEM_ENV}: {} is not an Ed25519 private key",
                path.display()
            )
        });
    }
    match non_blank(SECRET_ENV) {
        Some(secret) => Ok(Credentials::hmac(key.trim(), secret.trim())),
        None => bail!("neither {SECRET_ENV} nor {PEM_ENV} is set: the API key needs its secret"),
    }
}

/// Refuses a key file others may read.
fn check_private(path: &Path) -> anyhow::Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("{PEM_ENV}: {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "{PEM_ENV}: {} is readable by others (mode {mode:o}); chmod 600 it",
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn missing_values_are_named_and_secrets_never_printed() {
        let e = from_env(env(&[])).unwrap_err().to_string();
        assert!(e.contains(KEY_ENV), "{e}");
        let e = from_env(env(&[(KEY_ENV, "k")])).unwrap_err().to_string();
        assert!(e.contains(SECRET_ENV) && e.contains(PEM_ENV), "{e}");
        let c = from_env(env(&[(KEY_ENV, "the-key"), (SECRET_ENV, "hunter2-secret")])).unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2-secret") && !shown.contains("the-key"),
            "{shown}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "not a key").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let p = path.to_str().unwrap();
        let e = from_env(env(&[(KEY_ENV, "k"), (PEM_ENV, p)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("readable by others (mode 644)"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = format!(
            "{:#}",
            from_env(env(&[(KEY_ENV, "k"), (PEM_ENV, p)])).unwrap_err()
        );
        assert!(e.contains("not an Ed25519 private key"), "{e}");
    }
}
