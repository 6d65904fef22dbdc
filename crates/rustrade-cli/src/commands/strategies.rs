//! `rustrade strategies`: the registry, with default parameters.

use super::Ui;

/// Lists the ready strategies.
pub(super) fn run(ui: Ui) -> anyhow::Result<()> {
    let list = rustrade_strategies::list();
    ui.emit_json(&serde_json::Value::Array(
        list.iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name,
                    "summary": s.summary,
                    "defaults": s.default_params(),
                })
            })
            .collect(),
    ));
    let mut text = String::new();
    for s in list {
        text.push_str(&format!(
            "{:<20} {}\n{:<20} defaults: {}\n",
            s.name,
            s.summary,
            "",
            s.default_params()
        ));
    }
    ui.say(&text);
    Ok(())
}
