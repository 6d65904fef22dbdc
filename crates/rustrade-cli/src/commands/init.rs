//! `rustrade init`: write the commented example config.

use super::Ui;
use crate::cli::InitArgs;
use crate::config::template::INIT_TOML;
use crate::output::{self, OutputError};

/// Writes the example config to `args.path`, refusing to overwrite unless `--force`.
pub(super) fn run(args: &InitArgs, ui: Ui) -> anyhow::Result<()> {
    if args.path.exists() && !args.force {
        return Err(OutputError::exists(&args.path).into());
    }
    output::write_file(&args.path, INIT_TOML.as_bytes())?;
    ui.emit_json(&serde_json::json!({ "config": args.path.display().to_string() }));
    ui.say(&format!(
        "Wrote {0}. Edit it, then run: rustrade backtest {0}\n",
        args.path.display()
    ));
    Ok(())
}
