//! The CLI's config parsing over arbitrary text: layer one (`config::parse`, TOML into the raw
//! shape, errors located by line and column) and, when that succeeds, layer two
//! (`Config::from_raw`, every value checked and turned into backtest types; it reads no files).
//!
//! `rustrade-cli` is a binary crate without a library target, so its `config` module is compiled
//! into this target from its source file unchanged. Checked: no panic; every error names the
//! file and displays on one line (the module's contract).

#![no_main]

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/rustrade-cli/src/config/mod.rs"]
mod config;

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz/config.toml");
    match config::parse(path, text) {
        Ok(raw) => {
            let overrides = config::Overrides::default();
            if let Err(e) = config::Config::from_raw(path, text, raw, &overrides) {
                check(&e.to_string());
            }
        }
        Err(e) => check(&e.to_string()),
    }
});

fn check(shown: &str) {
    assert!(
        shown.contains("config.toml"),
        "error without the file: {shown}"
    );
    assert!(
        !shown.contains('\n'),
        "error on more than one line: {shown:?}"
    );
}
