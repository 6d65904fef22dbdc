//! The compact status line of a running bot (`rustrade paper`, `rustrade live`): health,
//! entry blocks, positions, session PnL, open orders and events, redrawn in place on standard
//! error while it is a terminal. Elsewhere (a pipe, a service manager's journal, `--quiet`,
//! `--json`) nothing is drawn and the structured logs are the whole record.
//!
//! [`render`] is a pure function of a [`Snapshot`]; [`spawn`] reads a snapshot from the bot's
//! handle every [`REFRESH`] and hands the text to an `indicatif` spinner.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use rustrade::BotHandle;
use rustrade_core::Symbol;

/// How often the line is redrawn.
pub(crate) const REFRESH: Duration = Duration::from_millis(500);

/// What the line shows, read from the bot's handle.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    /// Every service runs and every brain says it is healthy.
    pub(crate) healthy: bool,
    /// Shutdown has been requested.
    pub(crate) shutting_down: bool,
    /// Why entries are refused now (labels; empty: they are not).
    pub(crate) entry_blocks: Vec<&'static str>,
    /// Per traded symbol: its net quantity.
    pub(crate) positions: Vec<(Symbol, f64)>,
    /// Realised PnL of the session, net of fees, summed over symbols.
    pub(crate) session_pnl: f64,
    /// Unrealised PnL of the open positions, summed over symbols.
    pub(crate) unrealised_pnl: f64,
    /// Orders sent and not finished.
    pub(crate) open_orders: usize,
    /// Market events the brains were handed, summed over brains.
    pub(crate) events: u64,
}

/// The line for `s`, e.g.
/// `healthy | BTCUSDT 0.5 | PnL +12.30 (open -1.05) | orders 1 | events 1234`.
pub(crate) fn render(s: &Snapshot) -> String {
    let mut out = String::from(match (s.healthy, s.shutting_down) {
        (_, true) => "stopping",
        (true, false) => "healthy",
        (false, false) => "UNHEALTHY",
    });
    if !s.entry_blocks.is_empty() {
        out.push_str(" | entries blocked: ");
        out.push_str(&s.entry_blocks.join(", "));
    }
    if s.positions.is_empty() {
        out.push_str(" | no symbol");
    }
    for (symbol, quantity) in &s.positions {
        // `+ 0.0` turns a negative zero into a zero.
        out.push_str(&format!(" | {symbol} {}", quantity + 0.0));
    }
    out.push_str(&format!(" | PnL {}", signed(s.session_pnl)));
    if s.unrealised_pnl != 0.0 {
        out.push_str(&format!(" (open {})", signed(s.unrealised_pnl)));
    }
    out.push_str(&format!(
        " | orders {} | events {}",
        s.open_orders, s.events
    ));
    out
}

/// Reads what the line shows from `handle`, for `symbols`.
pub(crate) async fn snapshot(handle: &BotHandle, symbols: &[Symbol]) -> Snapshot {
    let health = handle.health().await;
    let mut positions = Vec::with_capacity(symbols.len());
    let (mut session_pnl, mut unrealised_pnl) = (0.0, 0.0);
    for symbol in symbols {
        let p = handle.position(symbol).await;
        positions.push((*symbol, p.quantity));
        unrealised_pnl += p.unrealised_pnl;
        if let Some(r) = handle.risk(symbol).await {
            session_pnl += r.session_net_pnl;
        }
    }
    Snapshot {
        healthy: health.healthy,
        shutting_down: health.shutting_down,
        entry_blocks: health.entry_blocks.iter().map(|b| b.label()).collect(),
        positions,
        session_pnl,
        unrealised_pnl,
        open_orders: handle.live_orders().await.len(),
        events: health.brains.iter().map(|b| b.events_processed).sum(),
    }
}

/// A status line being redrawn; [`StatusLine::finish`] clears it.
#[derive(Debug)]
pub(crate) struct StatusLine {
    bar: ProgressBar,
    task: tokio::task::JoinHandle<()>,
}

impl StatusLine {
    /// Stops redrawing and clears the line.
    pub(crate) fn finish(self) {
        self.task.abort();
        self.bar.finish_and_clear();
    }
}

/// Starts redrawing the status line of the bot behind `handle`, when `visible` (the user did
/// not ask for quiet or JSON output) and standard error is a terminal; `None` otherwise. Call
/// inside the Tokio runtime.
pub(crate) fn spawn(handle: BotHandle, symbols: Vec<Symbol>, visible: bool) -> Option<StatusLine> {
    if !visible || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    let drawn = bar.clone();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            drawn.set_message(render(&snapshot(&handle, &symbols).await));
            drawn.tick();
        }
    });
    Some(StatusLine { bar, task })
}

/// `+1.23`, `-0.50`, `0.00`.
fn signed(v: f64) -> String {
    if v > 0.0 && format!("{v:.2}") != "0.00" {
        format!("+{v:.2}")
    } else {
        format!("{:.2}", v + 0.0).replace("-0.00", "0.00")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }

    fn running() -> Snapshot {
        Snapshot {
            healthy: true,
            shutting_down: false,
            entry_blocks: Vec::new(),
            positions: vec![(sym("BTCUSDT"), 0.5)],
            session_pnl: 12.3,
            unrealised_pnl: -1.054,
            open_orders: 1,
            events: 1234,
        }
    }

    #[test]
    fn a_healthy_bot_shows_positions_pnl_orders_and_events() {
        assert_eq!(
            render(&running()),
            "healthy | BTCUSDT 0.5 | PnL +12.30 (open -1.05) | orders 1 | events 1234"
        );
    }

    #[test]
    fn a_flat_bot_omits_the_open_pnl_and_shows_zeros_unsigned() {
        let s = Snapshot {
            positions: vec![(sym("BTCUSDT"), -0.0), (sym("ETHUSDT"), -2.0)],
            session_pnl: -0.001,
            unrealised_pnl: 0.0,
            open_orders: 0,
            events: 0,
            ..running()
        };
        assert_eq!(
            render(&s),
            "healthy | BTCUSDT 0 | ETHUSDT -2 | PnL 0.00 | orders 0 | events 0"
        );
    }

    #[test]
    fn blocks_unhealthy_and_stopping_come_first() {
        let s = Snapshot {
            healthy: false,
            entry_blocks: vec!["entries_paused", "market_data_silent"],
            ..running()
        };
        assert!(
            render(&s).starts_with(
                "UNHEALTHY | entries blocked: entries_paused, market_data_silent | BTCUSDT 0.5 |"
            ),
            "{}",
            render(&s)
        );
        let s = Snapshot {
            shutting_down: true,
            positions: Vec::new(),
            ..s
        };
        assert!(
            render(&s).starts_with(
                "stopping | entries blocked: entries_paused, market_data_silent | no symbol | PnL"
            ),
            "{}",
            render(&s)
        );
    }

    #[test]
    fn pnl_is_signed_with_two_decimals() {
        assert_eq!(signed(1.0), "+1.00");
        assert_eq!(signed(-1.25), "-1.25");
        assert_eq!(signed(0.004), "0.00");
        assert_eq!(signed(-0.004), "0.00");
        assert_eq!(signed(0.0), "0.00");
    }
}
