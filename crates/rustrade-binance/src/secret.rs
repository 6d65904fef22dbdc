//! [`Secret`]: a credential that never shows in logs, errors or `Debug` output.

/// Wraps an API key or secret so that formatting it prints `[REDACTED]`.
///
/// The text is reachable only through [`Secret::expose`], so every use is visible in review. It
/// does not implement `Serialize`: a credential cannot be written back out by accident.
///
/// ```
/// use rustrade_binance::Secret;
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

    #[test]
    fn never_formats_the_value() {
        let s: Secret = serde_json::from_str("\"s3cr3t\"").unwrap();
        let shown = format!("{s:?} {s} {s:#?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(s.expose(), "s3cr3t");
        assert!(Secret::new("").is_empty());
    }
}
