//! [`BacktestResult`]: everything a run produced, and its exports (JSON, trades CSV, equity CSV).
//!
//! # Accounting identity
//!
//! `final_equity = initial_cash + realised_pnl − open_fees + unrealised_pnl − funding_paid`,
//! where `realised_pnl` is net of the fees already charged to closed size (both legs) and
//! `open_fees` are the entry fees of positions still open. Equivalently,
//! `final_equity = initial_cash + gross realised − fees_paid + unrealised − funding_paid`.
//! Fees split three ways: `fees_paid = Σ closed trades' fees + open_trade_fees + open_fees`.
//!
//! # Export formats
//!
//! - JSON: the whole result, serde field names, times as integer nanoseconds since the epoch.
//! - Trades CSV: `brain,symbol,side,quantity,entry_time,exit_time,entry_price,exit_price,
//!   gross_pnl,fees,net_pnl,return` with RFC 3339 times.
//! - Equity CSV: `time,equity` with RFC 3339 times, `n + 1` rows.
//! - Fills CSV: `fill_id,order_id,client_id,symbol,side,price,quantity,fee,fee_asset,liquidity,
//!   time` with an RFC 3339 time, `client_id` empty when the venue echoed none, liquidity
//!   `maker` or `taker`.
//!
//! The CSV sinks of [`crate::Outputs`] write the same bytes as these exports, row by row.
//!
//! Numbers are written with Rust's shortest round-trip formatting, so the files are
//! byte-identical for identical runs.

use std::collections::BTreeMap;
use std::io::Write;

use rustrade_core::{Fill, Position, Side, Symbol, Timestamp};

use crate::sink::{EQUITY_HEADER, FILL_HEADER, TRADE_HEADER, equity_row, fill_row, trade_row};
use crate::{BacktestError, Statistics};

/// One closed round trip.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TradeRecord {
    /// Brain the trade belongs to.
    pub brain: BrainName,
    /// Instrument.
    pub symbol: Symbol,
    /// `Buy` for a long, `Sell` for a short.
    pub side: Side,
    /// Largest absolute size held during the trade.
    pub quantity: f64,
    /// When it opened.
    pub entry_time: Timestamp,
    /// When it closed.
    pub exit_time: Timestamp,
    /// Price of the first entry fill.
    pub entry_price: f64,
    /// Price of the closing fill.
    pub exit_price: f64,
    /// PnL before fees.
    pub gross_pnl: f64,
    /// Fees of both legs.
    pub fees: f64,
    /// `gross_pnl − fees`.
    pub net_pnl: f64,
    /// `net_pnl / (entry_price × quantity × contract value)`.
    pub return_fraction: f64,
}

/// A brain's name stored inline (at most 32 bytes; longer names are cut), so recording a trade
/// does not allocate.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BrainName {
    len: u8,
    bytes: [u8; 32],
}

/// Counts of order outcomes over a run, from the engine's journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderCounts {
    /// Orders placed (entries, exits and protective legs).
    pub placed: u64,
    /// Orders the venue rejected.
    pub rejected: u64,
    /// Orders cancelled (OCO siblings, TTL, flat positions).
    pub cancelled: u64,
    /// Orders that expired at the venue.
    pub expired: u64,
}

/// One equity sample.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EquityPoint {
    /// Time of the sample.
    pub time: Timestamp,
    /// Cash plus the marked value of open positions, net of all fees paid.
    pub equity: f64,
}

/// The outcome of a backtest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BacktestResult {
    /// Starting cash.
    pub initial_cash: f64,
    /// Equity after the last event.
    pub final_equity: f64,
    /// PnL realised on closed size, net of the fees charged to it (both legs).
    pub realised_pnl: f64,
    /// Marked PnL of open positions at the last prices.
    pub unrealised_pnl: f64,
    /// Entry fees of positions still open (not yet in `realised_pnl`).
    pub open_fees: f64,
    /// Fees already charged to the closed part of round trips still open (both legs): in
    /// `realised_pnl`, but in no closed trade yet. So `Σ trade fees + open_trade_fees +
    /// open_fees = fees_paid`.
    #[serde(default)]
    pub open_trade_fees: f64,
    /// Every fee paid.
    pub fees_paid: f64,
    /// Net funding paid on perpetual positions (negative when received).
    pub funding_paid: f64,
    /// Market events processed.
    pub events: u64,
    /// Decisions refused by the risk gates or order rules.
    pub refused_decisions: u64,
    /// What happened to the orders the engine placed.
    pub orders: OrderCounts,
    /// Every fill, in order (empty when recording was turned off or sent to a file).
    pub fills: Vec<Fill>,
    /// Every closed round trip, in closing order (empty when recording was turned off or sent
    /// to a file).
    pub trades: Vec<TradeRecord>,
    /// The equity curve (empty when recording was turned off or sent to a file; at most the
    /// chosen number of samples when downsampled; see [`crate::Outputs`]).
    pub equity: Vec<EquityPoint>,
    /// Net position per symbol at the end.
    pub positions: BTreeMap<Symbol, Position>,
    /// The statistics; formulas in [`crate::stats`].
    pub statistics: Statistics,
}

impl BacktestResult {
    /// The whole result as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, BacktestError> {
        serde_json::to_string_pretty(self).map_err(|e| report_error("JSON", &e))
    }

    /// Writes [`BacktestResult::to_json`] to `out`.
    pub fn write_json(&self, mut out: impl Write) -> Result<(), BacktestError> {
        let text = self.to_json()?;
        out.write_all(text.as_bytes())
            .map_err(|e| report_error("JSON", &e))?;
        out.write_all(b"\n").map_err(|e| report_error("JSON", &e))
    }

    /// Writes the fills CSV (columns in the module doc).
    pub fn write_fills_csv(&self, out: impl Write) -> Result<(), BacktestError> {
        write_csv(
            out,
            "fills CSV",
            &FILL_HEADER,
            self.fills.iter().map(fill_row),
        )
    }

    /// Writes the trades CSV (columns in the module doc).
    pub fn write_trades_csv(&self, out: impl Write) -> Result<(), BacktestError> {
        write_csv(
            out,
            "trades CSV",
            &TRADE_HEADER,
            self.trades.iter().map(trade_row),
        )
    }

    /// Writes the equity CSV (`time,equity`).
    pub fn write_equity_csv(&self, out: impl Write) -> Result<(), BacktestError> {
        write_csv(
            out,
            "equity CSV",
            &EQUITY_HEADER,
            self.equity.iter().map(equity_row),
        )
    }
}

impl BrainName {
    /// Stores `name`, cut to 32 bytes at a character boundary.
    pub fn new(name: &str) -> Self {
        let mut end = name.len().min(32);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; 32];
        bytes[..end].copy_from_slice(&name.as_bytes()[..end]);
        Self {
            len: end as u8,
            bytes,
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Debug for BrainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BrainName({:?})", self.as_str())
    }
}

impl std::fmt::Display for BrainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for BrainName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for BrainName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::new(&s))
    }
}

/// Writes `header` then `rows` as CSV to `out`.
fn write_csv<const N: usize>(
    out: impl Write,
    what: &'static str,
    header: &[&str],
    rows: impl Iterator<Item = [String; N]>,
) -> Result<(), BacktestError> {
    let mut w = csv::Writer::from_writer(out);
    let err = |e: csv::Error| report_error(what, &e);
    w.write_record(header).map_err(err)?;
    for row in rows {
        w.write_record(row).map_err(err)?;
    }
    w.flush().map_err(|e| report_error(what, &e))
}

fn report_error(what: &'static str, e: &dyn std::fmt::Display) -> BacktestError {
    BacktestError::Report {
        what,
        reason: e.to_string(),
    }
}
