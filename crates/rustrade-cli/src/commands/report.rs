//! `rustrade report`: render report.html again from a result.json.

use super::Ui;
use crate::cli::ReportArgs;
use crate::config::ConfigError;
use crate::run_record::{FORMAT, RunRecord};
use crate::{output, report};

/// Re-renders the report of `args.result`.
pub(super) fn run(args: &ReportArgs, ui: Ui) -> anyhow::Result<()> {
    let path = &args.result;
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::file(path, format!("cannot read: {e}")))?;
    let record = RunRecord::from_json(&text).map_err(|e| {
        ConfigError::file(
            path,
            format!("not a {FORMAT} result written by `rustrade backtest`: {e}"),
        )
    })?;
    if record.format != FORMAT {
        return Err(ConfigError::file(
            path,
            format!("format {:?} is not the supported {FORMAT:?}", record.format),
        )
        .into());
    }
    let out = args.out.clone().unwrap_or_else(|| {
        path.parent()
            .unwrap_or(std::path::Path::new(""))
            .join("report.html")
    });
    output::write_file(&out, report::render(&record).as_bytes())?;
    ui.emit_json(&serde_json::json!({ "report": out.display().to_string() }));
    ui.say(&format!("Wrote {}\n", out.display()));
    Ok(())
}
