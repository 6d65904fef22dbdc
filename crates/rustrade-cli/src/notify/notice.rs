//! [`Notice`]: one thing worth telling the operator, built from the bot's journalled engine
//! events, its services' lifecycle and the daily tally; and the [`Kind`]s a channel subscribes to.

use std::collections::BTreeMap;

use rustrade::engine::{EngineEvent, EntryBlock};
use rustrade::supervisor::{ServiceLifecycleSnapshot, ServicePhase, TerminationReason};
use rustrade_core::{Symbol, Timestamp};
use serde_json::{Value, json};

/// What a notice is about; a channel sends only the kinds it subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    /// A fill was applied.
    Fill,
    /// Entries on a symbol were halted by risk (session loss cap, loss breaker) or resumed.
    Halt,
    /// Recovery found the venue's position different from ours; entries wait for an
    /// acknowledgement.
    Recovery,
    /// An entry block was raised or cleared (fill routing, market data, store, operator pause).
    Degraded,
    /// A service failed, restarted or terminated.
    Service,
    /// The daily summary at the UTC day boundary.
    Summary,
}

impl Kind {
    /// Every kind, in the order they are documented.
    pub(crate) const ALL: [Self; 6] = [
        Self::Fill,
        Self::Halt,
        Self::Recovery,
        Self::Degraded,
        Self::Service,
        Self::Summary,
    ];

    /// The name used in the config and the webhook payload.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Fill => "fill",
            Self::Halt => "halt",
            Self::Recovery => "recovery",
            Self::Degraded => "degraded",
            Self::Service => "service",
            Self::Summary => "summary",
        }
    }

    /// The kind named `text`, if any.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.label() == text)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of [`Kind`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KindSet(u8);

impl KindSet {
    /// Every kind.
    pub(crate) fn all() -> Self {
        Self::from_kinds(Kind::ALL)
    }

    /// The kinds given.
    pub(crate) fn from_kinds(kinds: impl IntoIterator<Item = Kind>) -> Self {
        Self(kinds.into_iter().fold(0, |bits, k| bits | k.bit()))
    }

    /// Whether `kind` is in the set.
    pub(crate) fn contains(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }
}

/// One thing to tell the operator.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Notice {
    /// What it is about.
    pub(crate) kind: Kind,
    /// Whether trading stopped or needs the operator: a full queue drops these last.
    pub(crate) critical: bool,
    /// When it happened (the engine's time for engine events).
    pub(crate) time: Timestamp,
    /// One line for a human.
    pub(crate) text: String,
    /// The same as structured data, for the webhook payload.
    pub(crate) details: Value,
}

impl Notice {
    /// The notice an engine event calls for, if any; `brains` names the brains by index.
    pub(crate) fn from_event(event: &EngineEvent, brains: &[String]) -> Option<Self> {
        let brain_name = |i: usize| brains.get(i).map_or("?", String::as_str);
        let notice = match event {
            EngineEvent::FillApplied {
                brain,
                role,
                fill,
                realised_pnl,
                time,
            } => Self {
                kind: Kind::Fill,
                critical: false,
                time: *time,
                text: format!(
                    "fill: {} {} {} @ {} (fee {}, realised {realised_pnl:.2}) [{}]",
                    fill.side,
                    fill.quantity.get(),
                    fill.symbol,
                    fill.price.get(),
                    fill.fee.get(),
                    brain_name(brain.index()),
                ),
                details: json!({
                    "brain": brain_name(brain.index()),
                    "symbol": fill.symbol.as_str(),
                    "side": fill.side.to_string(),
                    "price": fill.price.get(),
                    "quantity": fill.quantity.get(),
                    "fee": fill.fee.get(),
                    "role": format!("{role:?}"),
                    "realised_pnl": realised_pnl,
                }),
            },
            EngineEvent::RiskHalted {
                symbol,
                refusal,
                time,
            } => Self {
                kind: Kind::Halt,
                critical: true,
                time: *time,
                text: format!("entries halted on {symbol}: {}", refusal.reason),
                details: json!({
                    "symbol": symbol.as_str(),
                    "halted": true,
                    "reason": refusal.label.as_ref(),
                    "message": refusal.reason.to_string(),
                }),
            },
            EngineEvent::RiskResumed { symbol, time } => Self {
                kind: Kind::Halt,
                critical: false,
                time: *time,
                text: format!("entries resumed on {symbol}"),
                details: json!({ "symbol": symbol.as_str(), "halted": false }),
            },
            EngineEvent::PositionDrift {
                symbol,
                ours,
                venue,
                time,
                ..
            } => Self {
                kind: Kind::Recovery,
                critical: true,
                time: *time,
                text: format!(
                    "position drift on {symbol}: ours {} venue {}; the venue's was adopted",
                    ours.quantity, venue.quantity
                ),
                details: json!({
                    "symbol": symbol.as_str(),
                    "ours": ours.quantity,
                    "venue": venue.quantity,
                }),
            },
            EngineEvent::EntryBlock {
                block,
                raised,
                time,
            } => block_notice(*block, *raised, *time),
            EngineEvent::EntriesPaused { paused, time } => {
                block_notice(EntryBlock::Operator, *paused, *time)
            }
            _ => return None,
        };
        Some(notice)
    }

    /// The notice a change of a service's lifecycle calls for, comparing `now` with the
    /// previous snapshot of the same service (`None`: first seen): a new failure, or a
    /// termination other than a clean shutdown or completion.
    pub(crate) fn from_service(
        before: Option<&ServiceLifecycleSnapshot>,
        now: &ServiceLifecycleSnapshot,
        at: Timestamp,
    ) -> Option<Self> {
        let failures_before = before.map_or(0, |b| b.failures);
        let was_terminated = before.is_some_and(|b| b.phase == ServicePhase::Terminated);
        let terminated_badly = now.phase == ServicePhase::Terminated
            && !was_terminated
            && !now.termination.is_some_and(|t| {
                matches!(
                    t,
                    TerminationReason::Completed | TerminationReason::Shutdown
                )
            });
        if now.failures <= failures_before && !terminated_badly {
            return None;
        }
        let error = now.last_error.as_deref().unwrap_or("no error recorded");
        let text = if terminated_badly {
            format!(
                "service {} terminated ({}): {error}",
                now.name,
                now.termination.map_or("?", |t| t.as_str())
            )
        } else {
            format!(
                "service {} failed (failure {}, restart {}): {error}",
                now.name, now.failures, now.restarts
            )
        };
        Some(Self {
            kind: Kind::Service,
            critical: true,
            time: at,
            text,
            details: json!({
                "service": now.name,
                "phase": now.phase.to_string(),
                "failures": now.failures,
                "restarts": now.restarts,
                "last_error": now.last_error,
                "termination": now.termination.map(|t| t.as_str()),
            }),
        })
    }
}

fn block_notice(block: EntryBlock, raised: bool, time: Timestamp) -> Notice {
    let kind = if block == EntryBlock::Drift {
        Kind::Recovery
    } else {
        Kind::Degraded
    };
    let text = if raised {
        format!("entries blocked ({}): {}", block.label(), block.describe())
    } else {
        format!("entry block cleared ({})", block.label())
    };
    Notice {
        kind,
        // The operator's own pause is a confirmation, not an alarm.
        critical: raised && block != EntryBlock::Operator,
        time,
        text,
        details: json!({ "block": block.label(), "raised": raised }),
    }
}

/// One UTC day of trading per symbol, summarised at the day boundary.
#[derive(Debug, Clone, Default)]
pub(crate) struct DailyTally {
    /// The UTC day being tallied (days since the epoch), once known.
    day: Option<i64>,
    symbols: BTreeMap<Symbol, SymbolDay>,
}

#[derive(Debug, Clone, Copy, Default)]
struct SymbolDay {
    realised_pnl: f64,
    fills: u64,
    trades: u64,
}

const DAY_NANOS: i64 = 86_400 * 1_000_000_000;

impl DailyTally {
    /// A tally that starts with the UTC day of `now`, listing `symbols` even if they do not
    /// trade.
    pub(crate) fn new(now: Timestamp, symbols: &[Symbol]) -> Self {
        Self {
            day: Some(day_of(now)),
            symbols: symbols.iter().map(|s| (*s, SymbolDay::default())).collect(),
        }
    }

    /// Counts `event` into its day; when the event belongs to a later day, the summary of the
    /// day that ended comes first.
    pub(crate) fn record(&mut self, event: &EngineEvent) -> Option<Notice> {
        let summary = match event_time(event) {
            Some(t) => self.roll(t),
            None => None,
        };
        match event {
            EngineEvent::FillApplied {
                fill, realised_pnl, ..
            } => {
                let day = self.symbols.entry(fill.symbol).or_default();
                day.fills += 1;
                day.realised_pnl += realised_pnl;
            }
            EngineEvent::TradeClosed { symbol, .. } => {
                self.symbols.entry(*symbol).or_default().trades += 1;
            }
            _ => {}
        }
        summary
    }

    /// The summary of the tallied day if `now` is in a later UTC day; the tally starts over.
    pub(crate) fn roll(&mut self, now: Timestamp) -> Option<Notice> {
        let today = day_of(now);
        let Some(day) = self.day else {
            self.day = Some(today);
            return None;
        };
        if today <= day {
            return None;
        }
        self.day = Some(today);
        let start = Timestamp::from_nanos(day.saturating_mul(DAY_NANOS));
        let date = start.to_rfc3339().get(..10).unwrap_or_default().to_owned();
        let mut lines = Vec::with_capacity(self.symbols.len());
        let mut rows = Vec::with_capacity(self.symbols.len());
        for (symbol, d) in &mut self.symbols {
            lines.push(format!(
                "{symbol}: realised {:.2}, {} fills, {} trades",
                d.realised_pnl, d.fills, d.trades
            ));
            rows.push(json!({
                "symbol": symbol.as_str(),
                "realised_pnl": d.realised_pnl,
                "fills": d.fills,
                "trades": d.trades,
            }));
            *d = SymbolDay::default();
        }
        let body = if lines.is_empty() {
            "no symbols".to_owned()
        } else {
            lines.join("; ")
        };
        Some(Notice {
            kind: Kind::Summary,
            critical: false,
            time: Timestamp::from_nanos((day + 1).saturating_mul(DAY_NANOS)),
            text: format!("daily summary {date} (UTC): {body}"),
            details: json!({ "date": date, "symbols": rows }),
        })
    }
}

fn day_of(t: Timestamp) -> i64 {
    t.as_nanos().div_euclid(DAY_NANOS)
}

fn event_time(event: &EngineEvent) -> Option<Timestamp> {
    match event {
        EngineEvent::FillApplied { time, .. }
        | EngineEvent::RiskHalted { time, .. }
        | EngineEvent::RiskResumed { time, .. }
        | EngineEvent::PositionChanged { time, .. }
        | EngineEvent::OrderPlaced { time, .. } => Some(*time),
        _ => None,
    }
}
