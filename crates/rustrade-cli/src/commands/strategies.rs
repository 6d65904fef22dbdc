//! `rustrade strategies`: the registry, with default parameters.

use rustrade_strategies::Registry;

use super::Ui;

/// Lists the strategies of `registry`: the ready ones and any the program registered.
pub(super) fn run(ui: Ui, registry: &Registry) -> anyhow::Result<()> {
    let list = registry.list();
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
