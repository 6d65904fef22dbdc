//! [`Secret`]: a value that never shows in logs, errors or `Debug` output.

/// Wraps a credential (API key, secret, password) so that formatting it prints `[REDACTED]`.
///
/// The value is reachable only through [`Secret::expose`], which makes every use visible in
/// review. It deserialises from a plain string so configuration files can carry it; it
/// deliberately does not implement `Serialize`, so it cannot be written back out by accident.
///
/// ```
/// use rustrade_core::Secret;
/// let key = Secret::new("hunter2");
/// assert_eq!(format!("{key:?} {key}"), "Secret([REDACTED]) [REDACTED]");
/// assert_eq!(key.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that signs or authenticates with it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (a missing credential).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Credentials {
        api_key: Secret,
        api_secret: Secret,
    }

    #[test]
    fn never_formats_the_value() {
        let c: Credentials =
            serde_json::from_str(r#"{"api_key":"AKIA123","api_secret":"s3cr3t"}"#).unwrap();
        let shown = format!("{c:?} {c:#?}");
        assert!(
            !shown.contains("AKIA123") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert_eq!(c.api_secret.expose(), "s3cr3t");
        assert!(!c.api_key.is_empty());
        assert!(Secret::new("").is_empty());
    }
}
