//! The commented example configuration written by `rustrade init`.

/// Every key with its default and a comment; trades the SMA crossover on the shipped Bitcoin
/// series when run from the repository root.
pub(crate) const INIT_TOML: &str = include_str!("../../assets/init.toml");
