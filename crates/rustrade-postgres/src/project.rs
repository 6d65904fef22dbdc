//! The queryable projection of journal records: the `orders`, `fills` and `trades` rows a
//! batch's journal records imply, written in the batch's own transaction.
//!
//! Only keys of the journal layout the facade writes (`journal/<seq, 20 digits>-<time ns, 20
//! digits>`) are projected; other keys are state the tables do not mirror. A record under such
//! a key that does not decode is [`StoreError::Corrupt`] naming the key: it would not restore
//! either, so it is refused before it is written.
//!
//! Writes are idempotent (`ON CONFLICT DO NOTHING` on each table's key), so projecting a
//! record twice — a migration over records some of which are projected — adds nothing.

use postgres::Transaction;
use postgres::types::ToSql;
use rustrade_core::StoreError;
use rustrade_engine::{EngineEvent, JournalRecord};

use crate::store::Statements;

/// One row write implied by a journal record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Row {
    /// A new order.
    OrderPlaced {
        seq: i64,
        client_id: String,
        brain: i64,
        role: String,
        symbol: String,
        side: String,
        kind: String,
        quantity: f64,
        limit_price: Option<f64>,
        trigger_price: Option<f64>,
        parent: Option<String>,
        time_ns: i64,
    },
    /// An order's new status.
    OrderStatus {
        client_id: String,
        status: &'static str,
        venue_order_id: Option<String>,
        time_ns: i64,
    },
    /// An applied fill (and the filled quantity of its order).
    Fill {
        seq: i64,
        fill_id: String,
        venue_order_id: String,
        client_id: Option<String>,
        brain: i64,
        role: String,
        symbol: String,
        side: String,
        price: f64,
        quantity: f64,
        fee: f64,
        fee_asset: String,
        liquidity: String,
        realised_pnl: f64,
        filled_ns: i64,
        applied_ns: i64,
    },
    /// A closed round trip.
    Trade {
        key: String,
        seq: i64,
        brain: i64,
        symbol: String,
        side: String,
        quantity: f64,
        entry_price: f64,
        exit_price: f64,
        gross_pnl: f64,
        fees: f64,
        net_pnl: f64,
        opened_ns: i64,
        closed_ns: i64,
    },
}

/// Whether `key` is a journal record of the layout the facade writes.
pub(crate) fn is_journal_key(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("journal/") else {
        return false;
    };
    let digits = |p: &str| p.len() == 20 && p.bytes().all(|b| b.is_ascii_digit());
    matches!(rest.split_once('-'), Some((seq, time)) if digits(seq) && digits(time))
}

/// The rows the value at `key` implies (none for keys that are not journal records).
pub(crate) fn rows(key: &str, value: &[u8]) -> Result<Vec<Row>, StoreError> {
    if !is_journal_key(key) {
        return Ok(Vec::new());
    }
    let record = JournalRecord::decode(value).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })?;
    let seq = i64::try_from(record.seq).unwrap_or(i64::MAX);
    let status = |client_id: &rustrade_core::ClientOrderId, status, venue: Option<String>, t| {
        Row::OrderStatus {
            client_id: client_id.to_string(),
            status,
            venue_order_id: venue,
            time_ns: rustrade_core::Timestamp::as_nanos(t),
        }
    };
    let row = match &record.event {
        EngineEvent::OrderPlaced {
            brain,
            role,
            order,
            parent,
            time,
            ..
        } => Row::OrderPlaced {
            seq,
            client_id: order.client_id.to_string(),
            brain: i64::from(brain.0),
            role: label(role),
            symbol: order.symbol.to_string(),
            side: label(&order.side),
            kind: label(&order.kind),
            quantity: order.quantity.get(),
            limit_price: order.limit_price.map(|p| p.get()),
            trigger_price: order.trigger_price.map(|p| p.get()),
            parent: parent.map(|p| p.to_string()),
            time_ns: time.as_nanos(),
        },
        EngineEvent::OrderAccepted {
            client_id,
            order_id,
            time,
        } => status(client_id, "accepted", Some(order_id.to_string()), *time),
        EngineEvent::OrderOutcomeUnknown { client_id, time } => {
            status(client_id, "outcome_unknown", None, *time)
        }
        EngineEvent::OrderRejected {
            client_id, time, ..
        } => status(client_id, "rejected", None, *time),
        EngineEvent::CancelRequested {
            client_id, time, ..
        } => status(client_id, "cancel_requested", None, *time),
        EngineEvent::OrderCancelled {
            client_id, time, ..
        } => status(client_id, "cancelled", None, *time),
        EngineEvent::OrderExpired {
            client_id, time, ..
        } => status(client_id, "expired", None, *time),
        EngineEvent::FillApplied {
            brain,
            role,
            fill,
            realised_pnl,
            time,
        } => Row::Fill {
            seq,
            fill_id: fill.fill_id.to_string(),
            venue_order_id: fill.order_id.to_string(),
            client_id: fill.client_id.map(|c| c.to_string()),
            brain: i64::from(brain.0),
            role: label(role),
            symbol: fill.symbol.to_string(),
            side: label(&fill.side),
            price: fill.price.get(),
            quantity: fill.quantity.get(),
            fee: fill.fee.get(),
            fee_asset: label(&fill.fee_asset),
            liquidity: label(&fill.liquidity),
            realised_pnl: *realised_pnl,
            filled_ns: fill.time.as_nanos(),
            applied_ns: time.as_nanos(),
        },
        EngineEvent::TradeClosed {
            brain,
            symbol,
            trade,
        } => Row::Trade {
            key: key.to_owned(),
            seq,
            brain: i64::from(brain.0),
            symbol: symbol.to_string(),
            side: label(&trade.side),
            quantity: trade.quantity,
            entry_price: trade.entry_price,
            exit_price: trade.exit_price,
            gross_pnl: trade.gross_pnl,
            fees: trade.fees,
            net_pnl: trade.net_pnl,
            opened_ns: trade.opened_at.as_nanos(),
            closed_ns: trade.closed_at.as_nanos(),
        },
        _ => return Ok(Vec::new()),
    };
    Ok(vec![row])
}

/// Writes `row` of `bot` in `tx`.
pub(crate) fn write(
    tx: &mut Transaction<'_>,
    st: &Statements,
    bot: &str,
    row: &Row,
) -> Result<(), postgres::Error> {
    let params: Vec<&(dyn ToSql + Sync)>;
    let statement = match row {
        Row::OrderPlaced {
            seq,
            client_id,
            brain,
            role,
            symbol,
            side,
            kind,
            quantity,
            limit_price,
            trigger_price,
            parent,
            time_ns,
        } => {
            params = vec![
                &bot,
                client_id,
                brain,
                role,
                symbol,
                side,
                kind,
                quantity,
                limit_price,
                trigger_price,
                parent,
                time_ns,
                seq,
            ];
            &st.order_placed
        }
        Row::OrderStatus {
            client_id,
            status,
            venue_order_id,
            time_ns,
        } => {
            params = vec![&bot, client_id, status, venue_order_id, time_ns];
            &st.order_status
        }
        Row::Fill {
            seq,
            fill_id,
            venue_order_id,
            client_id,
            brain,
            role,
            symbol,
            side,
            price,
            quantity,
            fee,
            fee_asset,
            liquidity,
            realised_pnl,
            filled_ns,
            applied_ns,
        } => {
            params = vec![
                &bot,
                fill_id,
                venue_order_id,
                client_id,
                brain,
                role,
                symbol,
                side,
                price,
                quantity,
                fee,
                fee_asset,
                liquidity,
                realised_pnl,
                filled_ns,
                applied_ns,
                seq,
            ];
            &st.fill
        }
        Row::Trade {
            key,
            seq,
            brain,
            symbol,
            side,
            quantity,
            entry_price,
            exit_price,
            gross_pnl,
            fees,
            net_pnl,
            opened_ns,
            closed_ns,
        } => {
            params = vec![
                &bot,
                key,
                seq,
                brain,
                symbol,
                side,
                quantity,
                entry_price,
                exit_price,
                gross_pnl,
                fees,
                net_pnl,
                opened_ns,
                closed_ns,
            ];
            &st.trade
        }
    };
    tx.execute(statement, &params).map(drop)
}

/// The statements of [`write`], for the tables in `schema`, in the order of [`Statements`].
pub(crate) fn sql(schema: &str) -> [String; 4] {
    let ts = |p: &str| format!("to_timestamp({p}::bigint / 1e9)");
    [
        format!(
            "INSERT INTO {schema}.orders (bot_id, client_id, brain, role, symbol, side, kind, \
             quantity, limit_price, trigger_price, parent, status, placed_ns, placed_at, \
             updated_at, journal_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'placed', $12, {t}, {t}, $13) \
             ON CONFLICT (bot_id, client_id) DO NOTHING",
            t = ts("$12")
        ),
        format!(
            "UPDATE {schema}.orders SET status = $3, \
             venue_order_id = coalesce($4, venue_order_id), updated_at = {t} \
             WHERE bot_id = $1 AND client_id = $2",
            t = ts("$5")
        ),
        format!(
            "WITH f AS (INSERT INTO {schema}.fills (bot_id, fill_id, venue_order_id, client_id, \
             brain, role, symbol, side, price, quantity, fee, fee_asset, liquidity, \
             realised_pnl, filled_ns, filled_at, applied_ns, applied_at, journal_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, {f}, \
             $16, {a}, $17) \
             ON CONFLICT (bot_id, fill_id) DO NOTHING \
             RETURNING venue_order_id, client_id, quantity) \
             UPDATE {schema}.orders o SET filled_quantity = o.filled_quantity + f.quantity, \
             venue_order_id = coalesce(o.venue_order_id, f.venue_order_id), \
             status = CASE WHEN o.filled_quantity + f.quantity >= o.quantity * (1 - 1e-9) \
                      THEN 'filled' ELSE 'partially_filled' END, \
             updated_at = {a} \
             FROM f WHERE o.bot_id = $1 AND (o.client_id = f.client_id \
               OR (f.client_id IS NULL AND o.venue_order_id = f.venue_order_id))",
            f = ts("$15"),
            a = ts("$16")
        ),
        format!(
            "INSERT INTO {schema}.trades (bot_id, journal_key, journal_seq, brain, symbol, side, \
             quantity, entry_price, exit_price, gross_pnl, fees, net_pnl, opened_ns, opened_at, \
             closed_ns, closed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, {o}, $14, {c}) \
             ON CONFLICT (bot_id, journal_key) DO NOTHING",
            o = ts("$13"),
            c = ts("$14")
        ),
    ]
}

/// A value's serde name (`buy`, `market`, `entry`, `{"exit":"stop"}`), as the journal spells it.
fn label<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => format!("unlabelled: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_journal_keys_of_the_current_layout_are_projected() {
        assert!(is_journal_key(
            "journal/00000000000000000001-00000000000000000002"
        ));
        assert!(!is_journal_key(
            "journal/00000000000000000007-00000000000000000001-0003"
        ));
        assert!(!is_journal_key("journal/x"));
        assert!(!is_journal_key("engine/snapshot"));
        assert_eq!(rows("engine/snapshot", b"not json").unwrap(), vec![]);
    }

    #[test]
    fn an_undecodable_journal_record_is_corrupt_naming_its_key() {
        let key = "journal/00000000000000000001-00000000000000000002";
        let err = rows(key, b"{\"format\":1").unwrap_err();
        match err {
            StoreError::Corrupt { key: k, reason } => {
                assert_eq!(k, key);
                assert!(reason.contains("not a journal record"), "{reason}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}
