//! What the bot asks the venue to learn what happened without it: fills made while it was down
//! or its fill stream was disconnected, orders whose placement got no answer, orders missing
//! from the venue's open list, and positions.
//!
//! # Rules
//!
//! - **Fills first.** Every fill the venue lists after the engine's
//!   [`fill_cursor`](rustrade_engine::Engine::fill_cursor) goes through the engine (positions,
//!   PnL, fees, session PnL and breaker, OCO siblings, bracket legs). Pages are fetched until one
//!   brings nothing newer; each fill id is applied once (`Driver::apply_fills`: the engine's
//!   window, then the store's durable record).
//! - **Then orders.** An order we sent without a definite answer is looked up by client id; the
//!   venue's answer is applied as it stands. "Never received" counts only once the order is older
//!   than the grace period (the request might still arrive before that), otherwise the order
//!   stays unresolved and is asked about again. An error is no answer: the order stays unknown.
//!   An order the venue filled further than the engine applied has its fills listed again from
//!   the order's creation first: a fill the stream delivered out of order can sit behind the
//!   cursor, where the fills-first pass does not look.
//! - **Then positions.** What still differs after fills and orders are applied is handed to the
//!   engine as venue positions and journalled as drift.
//! - A venue that cannot answer one of these calls ([`ExchangeError::Unsupported`]) is asked the
//!   nearest thing it can answer (open orders for a lookup, one position per symbol), and the
//!   gap is logged; nothing is assumed.

use std::time::Duration;

use rustrade_core::{
    ClientOrderId, ExchangeError, ExecutionReport, FillCursor, OrderState, Position, QTY_EPSILON,
    Symbol, Timestamp,
};
use rustrade_supervisor::Backoff;

use crate::driver::Driver;
use crate::services::validate_report;

/// Most pages of fills one catch-up fetches per symbol (a guard against a venue that keeps
/// answering the same page).
const MAX_PAGES: usize = 10_000;

impl Driver {
    /// Records the end of a reconciliation pass for health (`error`: why it failed).
    pub(crate) fn reconciliation_done(&self, error: Option<String>) {
        let now = self.now();
        *crate::driver::lock(&self.reconciled) = (Some(now), error);
    }
}

/// The outcome of one order lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The venue's definite answer was applied.
    Settled,
    /// No definite answer yet: ask again later.
    Open,
}

/// Applies every fill the venue lists after the engine's cursor on `symbols`; returns how many
/// fills the venue listed (duplicates included).
pub(crate) async fn catch_up_fills(
    driver: &Driver,
    symbols: &[Symbol],
) -> Result<usize, ExchangeError> {
    let mut listed = 0;
    for symbol in symbols {
        let Some(cursor) = driver.read(|e| e.fill_cursor(symbol)).flatten() else {
            continue;
        };
        match apply_fill_pages(driver, *symbol, cursor).await? {
            Some(n) => listed += n,
            None => return Ok(listed),
        }
    }
    Ok(listed)
}

/// Applies the fills of `symbol` the venue lists from `cursor` on, page after page, until a
/// page brings nothing newer; returns how many the venue listed, or `None` when it cannot list
/// past fills.
async fn apply_fill_pages(
    driver: &Driver,
    symbol: Symbol,
    mut cursor: FillCursor,
) -> Result<Option<usize>, ExchangeError> {
    let mut listed = 0;
    for _ in 0..MAX_PAGES {
        let page = match driver.exchange.fills_since(&symbol, &cursor).await {
            Ok(page) => page,
            Err(ExchangeError::Unsupported(what)) => {
                tracing::warn!(%symbol, what, "venue cannot list past fills; fills made while disconnected are not caught up");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        listed += page.len();
        // A page may repeat the cursor's own fill (and others already applied, which the
        // engine recognises by id).
        let newer: Vec<_> = page
            .iter()
            .filter(|f| Some(f.fill_id) != cursor.after)
            .copied()
            .collect();
        let Some(last) = newer.last().copied() else {
            break;
        };
        let mut valid = Vec::with_capacity(newer.len());
        for fill in newer {
            let report = ExecutionReport::Fill(fill);
            match validate_report(&report) {
                Ok(()) => valid.push(fill),
                Err(e) => driver.report_dropped(e.label(), &e),
            }
        }
        driver.apply_fills(valid).await.map_err(|e| {
            ExchangeError::Transport(format!("applied-fill record unreadable: {e}"))
        })?;
        let next = FillCursor::after(&last);
        if next == cursor {
            break;
        }
        cursor = next;
    }
    Ok(Some(listed))
}

/// Applies the fills of an order the venue reports filled further than the engine knows.
///
/// They may sit behind the engine's fill cursor: the stream delivered a later fill of the
/// symbol first (reordered or delayed), and the bot stopped before the earlier one arrived. So
/// the venue's fills are listed again from the order's creation; the engine applies each fill
/// id once, and a completed order takes no more.
async fn catch_up_order(driver: &Driver, state: &OrderState) -> Result<(), ExchangeError> {
    let venue = state.order;
    let known = venue.client_id.and_then(|c| {
        driver
            .read(|e| e.order(&c).map(|o| o.filled.get()))
            .flatten()
    });
    if known.is_none_or(|filled| venue.filled.get() <= filled + QTY_EPSILON) {
        return Ok(());
    }
    tracing::warn!(symbol = %venue.symbol, order_id = %venue.order_id, "the venue filled more of an order than the engine applied; listing its fills again");
    apply_fill_pages(driver, venue.symbol, FillCursor::since(venue.created))
        .await
        .map(|_| ())
}

/// Looks `client_id` up at the venue and applies a definite answer (see the module rules).
pub(crate) async fn look_up(
    driver: &Driver,
    symbol: Symbol,
    client_id: ClientOrderId,
    sent: Timestamp,
    grace: Duration,
) -> Result<Lookup, ExchangeError> {
    match driver.exchange.order_status(&symbol, &client_id).await {
        Ok(Some(state)) => {
            tracing::info!(%client_id, status = ?state.order.status, order_id = %state.order.order_id, "order found at the venue");
            catch_up_order(driver, &state).await?;
            driver
                .step(move |e, now| e.handle_order_state(&state, now))
                .await;
            Ok(Lookup::Settled)
        }
        Ok(None) if sent.saturating_add(grace) <= driver.now() => {
            tracing::warn!(%client_id, "the venue never received the order; not sent again");
            driver
                .step(move |e, now| e.handle_order_not_found(client_id, now))
                .await;
            Ok(Lookup::Settled)
        }
        Ok(None) => Ok(Lookup::Open),
        Err(ExchangeError::Unsupported(_)) => {
            // The venue lists open orders only: a working order settles; an absent one may
            // have filled or never arrived, which an open list cannot tell apart.
            match driver.exchange.find_order(&symbol, &client_id).await? {
                Some(open) => {
                    driver
                        .step(move |e, now| e.handle_accepted(client_id, open.order_id, now))
                        .await;
                    Ok(Lookup::Settled)
                }
                None => Ok(Lookup::Open),
            }
        }
        Err(e) => Err(e),
    }
}

/// Attempts of the start-up catch-up before a retryable venue error fails the start-up.
pub(crate) const STARTUP_ATTEMPTS: u32 = 8;

/// [`reconcile`], tried again while the venue answers with a retryable error (rate limited,
/// transport trouble, timeouts): a venue that is busy at start-up delays trading, it does not
/// stop the bot. Waits what the venue asked for, else 1 s doubling up to 60 s, for at most
/// [`STARTUP_ATTEMPTS`] attempts (about four minutes), and gives up at once on shutdown. Every
/// step of the catch-up is idempotent (fills are deduplicated, lookups read), so an attempt
/// cut short is simply repeated.
pub(crate) async fn reconcile_patiently(
    driver: &Driver,
    symbols: &[Symbol],
    grace: Duration,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<(), ExchangeError> {
    let backoff =
        Backoff::new(Duration::from_secs(1), Duration::from_secs(60)).expect("1 s is below 60 s");
    let mut attempt = 1;
    loop {
        match reconcile(driver, symbols, grace).await {
            Err(e) if e.is_retryable() && attempt < STARTUP_ATTEMPTS => {
                let wait = match &e {
                    ExchangeError::RateLimited {
                        retry_after: Some(d),
                    } => *d,
                    _ => backoff.pre_jitter_delay(attempt - 1),
                };
                tracing::warn!(attempt, error = %e, wait_ms = wait.as_millis() as u64, "start-up catch-up failed; trying again");
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = shutdown.cancelled() => return Err(e),
                }
                attempt += 1;
            }
            done => return done,
        }
    }
}

/// Catch-up after a restart, before any brain sees an event: fills, unresolved orders, our
/// orders missing from the venue's open list, then positions.
pub(crate) async fn reconcile(
    driver: &Driver,
    symbols: &[Symbol],
    grace: Duration,
) -> Result<(), ExchangeError> {
    let fills = catch_up_fills(driver, symbols).await?;
    if fills > 0 {
        tracing::info!(fills, "fills caught up from the venue");
    }
    let unresolved: Vec<(Symbol, ClientOrderId, Timestamp)> = driver
        .read(|e| {
            e.unresolved_orders()
                .map(|o| (o.order.symbol, o.order.client_id, o.created))
                .collect()
        })
        .unwrap_or_default();
    for (symbol, client_id, sent) in unresolved {
        if look_up(driver, symbol, client_id, sent, grace).await? == Lookup::Open {
            tracing::warn!(%client_id, "order outcome still unknown; it stays reserved and is asked about again");
            driver
                .step(move |e, now| e.handle_place_unknown(client_id, now))
                .await;
        }
    }
    reconcile_open_orders(driver).await?;
    reconcile_positions(driver, symbols).await?;
    reconcile_balance(driver, true).await?;
    driver.reconciliation_done(None);
    Ok(())
}

/// Gives the engine the venue's balance of the cash asset, if one is configured
/// (`BotConfigBuilder::cash_asset`), as the account's cash: free plus locked. While running
/// (`at_start_up` false) it is taken only when no order of ours was live or sent while the
/// venue answered, so that no fill can be in flight between the venue's answer and the engine
/// (the fill would move the cash twice);
/// at start-up it is always read, the fills having just been caught up. A venue that offers no
/// balance leaves the engine's cash as it was.
pub(crate) async fn reconcile_balance(
    driver: &Driver,
    at_start_up: bool,
) -> Result<(), ExchangeError> {
    let Some(asset) = driver.cash_asset else {
        return Ok(());
    };
    // No live order, and the client-id sequence to tell whether one was sent meanwhile.
    let idle = || {
        driver
            .read(|e| e.open_orders().next().is_none().then(|| e.next_sequence()))
            .flatten()
    };
    let before = idle();
    if !at_start_up && before.is_none() {
        return Ok(());
    }
    let balance = match driver.exchange.balance(&asset).await {
        Ok(b) => b,
        Err(ExchangeError::Unsupported(why)) => {
            tracing::debug!(%asset, why, "the venue offers no balance; the engine's cash is unchanged");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    // An order sent while the venue answered may have filled already.
    if !at_start_up && idle() != before {
        return Ok(());
    }
    let cash = balance.free.get() + balance.locked.get();
    driver.step(move |e, now| e.handle_balance(cash, now)).await;
    Ok(())
}

/// Hands the venue's open orders to the engine after looking up each of our acknowledged orders
/// the list lacks (it may have filled, expired or been cancelled: the venue says which).
pub(crate) async fn reconcile_open_orders(driver: &Driver) -> Result<(), ExchangeError> {
    let open = driver.exchange.open_orders(None).await?;
    let missing: Vec<(Symbol, ClientOrderId)> = driver
        .read(|e| {
            e.open_orders()
                .filter(|o| o.venue_id.is_some())
                .filter(|o| {
                    !open.iter().any(|v| {
                        v.client_id == Some(o.order.client_id) || Some(v.order_id) == o.venue_id
                    })
                })
                .map(|o| (o.order.symbol, o.order.client_id))
                .collect()
        })
        .unwrap_or_default();
    for (symbol, client_id) in missing {
        match driver.exchange.order_status(&symbol, &client_id).await {
            Ok(Some(state)) => {
                catch_up_order(driver, &state).await?;
                driver
                    .step(move |e, now| e.handle_order_state(&state, now))
                    .await;
            }
            Ok(None) | Err(ExchangeError::Unsupported(_)) => {}
            Err(e) => return Err(e),
        }
    }
    for order in &open {
        let state = OrderState {
            order: *order,
            avg_fill_price: None,
        };
        catch_up_order(driver, &state).await?;
    }
    driver
        .step(move |e, now| e.handle_venue_open_orders(&open, now))
        .await;
    Ok(())
}

/// One reconciliation pass while running: fills, open orders, then positions judged only when
/// they hold still across a fresh fill catch-up (see `services/reconciler.rs`).
pub(crate) async fn reconcile_running(
    driver: &Driver,
    symbols: &[Symbol],
) -> Result<(), ExchangeError> {
    catch_up_fills(driver, symbols).await?;
    reconcile_open_orders(driver).await?;
    reconcile_balance(driver, false).await?;
    let before = venue_positions(driver, symbols).await?;
    let drifted: Vec<Symbol> = driver
        .read(|e| {
            before
                .iter()
                .filter(|(s, p)| {
                    let ours = e.position(s).quantity;
                    e.instrument(s)
                        .is_some_and(|spec| !spec.is_dust(p.quantity - ours))
                })
                .map(|(s, _)| *s)
                .collect()
        })
        .unwrap_or_default();
    if drifted.is_empty() {
        return Ok(());
    }
    catch_up_fills(driver, &drifted).await?;
    let after = venue_positions(driver, &drifted).await?;
    let steady: Vec<(Symbol, Position)> = after
        .into_iter()
        .filter(|(s, p)| {
            before.iter().any(|(b, q)| {
                b == s
                    && driver
                        .read(|e| {
                            e.instrument(s)
                                .is_some_and(|spec| spec.is_dust(p.quantity - q.quantity))
                        })
                        .unwrap_or(false)
            })
        })
        .collect();
    if !steady.is_empty() {
        driver
            .step(move |e, now| e.handle_venue_positions(&steady, now))
            .await;
    }
    Ok(())
}

/// Hands the venue's positions on `symbols` to the engine (flat where the venue lists none).
pub(crate) async fn reconcile_positions(
    driver: &Driver,
    symbols: &[Symbol],
) -> Result<(), ExchangeError> {
    let positions = venue_positions(driver, symbols).await?;
    driver
        .step(move |e, now| e.handle_venue_positions(&positions, now))
        .await;
    Ok(())
}

/// The venue's positions on `symbols` (flat where it lists none).
async fn venue_positions(
    driver: &Driver,
    symbols: &[Symbol],
) -> Result<Vec<(Symbol, Position)>, ExchangeError> {
    Ok(match driver.exchange.positions().await {
        Ok(listed) => symbols
            .iter()
            .map(|s| {
                let p = listed
                    .iter()
                    .find(|(l, _)| l == s)
                    .map_or(Position::FLAT, |(_, p)| *p);
                (*s, p)
            })
            .collect(),
        Err(ExchangeError::Unsupported(_)) => {
            let mut out = Vec::with_capacity(symbols.len());
            for s in symbols {
                out.push((*s, driver.exchange.position(s).await?));
            }
            out
        }
        Err(e) => return Err(e),
    })
}
