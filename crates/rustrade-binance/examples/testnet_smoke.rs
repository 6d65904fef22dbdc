//! Places, queries and cancels one tiny post-only order on the Binance Spot testnet and the
//! USD-M futures testnet, printing what the venue answered at each step. Talks to the network:
//! run it by hand through `scripts/binance-testnet-smoke.sh`, never in CI.
//!
//! Keys come from the environment; the environment is hard-wired to `Environment::Testnet`,
//! so a production key is simply refused by the testnet:
//! `BINANCE_SPOT_TESTNET_KEY` / `BINANCE_SPOT_TESTNET_SECRET` (HMAC) and
//! `BINANCE_FUTURES_TESTNET_KEY` / `BINANCE_FUTURES_TESTNET_SECRET` (HMAC). An Ed25519 key can
//! be given instead as a PEM file path in `BINANCE_SPOT_TESTNET_ED25519_PEM` /
//! `BINANCE_FUTURES_TESTNET_ED25519_PEM` (the `*_KEY` variable still names the API key).
//!
//! `cargo run -p rustrade-binance --example testnet_smoke -- [spot|futures|both] [SYMBOL]`

use anyhow::{Context, Result, bail};
use reqwest::Method;
use rustrade_binance::{
    Auth, BinanceSpot, BinanceUsdm, Call, Credentials, Environment, RestClient, SpotConfig,
    UsdmConfig,
};
use rustrade_core::{
    ClientOrderId, ExchangeClient, InstrumentSpec, Order, OrderKind, Price, Quantity, Side, Symbol,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "both".into());
    let symbol = Symbol::new(&args.next().unwrap_or_else(|| "BTCUSDT".into()))?;
    let (spot, futures) = match which.as_str() {
        "spot" => (true, false),
        "futures" => (false, true),
        "both" => (true, true),
        other => bail!("unknown product {other:?}: expected spot, futures or both"),
    };
    if spot {
        let creds = credentials("SPOT")?;
        let client = BinanceSpot::new(
            SpotConfig::new(Environment::Testnet, Some(creds)).with_symbols([symbol]),
        )?;
        println!("== Spot testnet, {symbol}");
        let price = last_price(client.rest(), "/api/v3/ticker/price", &symbol).await?;
        round_trip(&client, &symbol, price).await?;
    }
    if futures {
        let creds = credentials("FUTURES")?;
        let client = BinanceUsdm::new(UsdmConfig::new(Environment::Testnet, Some(creds)))?;
        println!("== USD-M futures testnet, {symbol}");
        client
            .prepare()
            .await
            .context("futures account check (one-way mode)")?;
        println!("account is in one-way mode");
        let price = last_price(&client.rest(), "/fapi/v1/ticker/price", &symbol).await?;
        round_trip(&client, &symbol, price).await?;
        println!("positions: {:?}", client.positions().await?);
    }
    Ok(())
}

/// The key of `product` from the environment.
fn credentials(product: &str) -> Result<Credentials> {
    let key_var = format!("BINANCE_{product}_TESTNET_KEY");
    let key = std::env::var(&key_var).with_context(|| format!("{key_var} is not set"))?;
    let pem_var = format!("BINANCE_{product}_TESTNET_ED25519_PEM");
    if let Ok(path) = std::env::var(&pem_var) {
        let pem = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        return Ok(Credentials::ed25519_from_pem(key, &pem)?);
    }
    let secret_var = format!("BINANCE_{product}_TESTNET_SECRET");
    let secret = std::env::var(&secret_var)
        .with_context(|| format!("neither {secret_var} nor {pem_var} is set"))?;
    Ok(Credentials::hmac(key, secret))
}

/// The last trade price of `symbol` (`{"symbol","price"}`).
async fn last_price(rest: &RestClient, path: &'static str, symbol: &Symbol) -> Result<f64> {
    let call = Call::new(Method::GET, path, 2, Auth::None).param("symbol", symbol.as_str());
    let v = rest.call(&call).await?;
    let text = v["price"]
        .as_str()
        .with_context(|| format!("no price in {v}"))?;
    Ok(text.parse()?)
}

/// Places a post-only buy 3 % under `price`, just over the minimum notional; looks it up,
/// lists it, cancels it, and looks it up again.
async fn round_trip(client: &dyn ExchangeClient, symbol: &Symbol, price: f64) -> Result<()> {
    let spec = client.instrument(symbol).await?;
    println!(
        "rules: tick {} lot {} min qty {} min notional {}",
        spec.tick_size(),
        spec.lot_size(),
        spec.min_qty(),
        spec.min_notional()
    );
    let limit = spec.round_price(price * 0.97);
    let qty = smallest_order(&spec, limit)?;
    let id = ClientOrderId::new(&format!("smoke-{}", std::process::id()))?;
    let mut order = Order::limit(id, *symbol, Side::Buy, qty, limit);
    order.kind = OrderKind::PostOnly;
    println!("last price {price}; placing post-only buy {qty} @ {limit} as {id}");
    let venue_id = client.place_order(&order).await?;
    println!("accepted: venue id {venue_id}");
    println!("status: {:?}", client.order_status(symbol, &id).await?);
    let open = client.open_orders(Some(symbol)).await?;
    let ours = open.iter().any(|o| o.client_id == Some(id));
    println!(
        "open orders on {symbol}: {} (ours listed: {ours})",
        open.len()
    );
    client.cancel_order(symbol, &id, Some(&venue_id)).await?;
    println!("cancelled");
    let after = client.order_status(symbol, &id).await?;
    println!("status after cancel: {after:?}");
    if !ours {
        bail!("the order was not among the open orders");
    }
    Ok(())
}

/// The least lot multiple that clears both the minimum quantity and 1.2 × the minimum
/// notional at `limit`.
fn smallest_order(spec: &InstrumentSpec, limit: Price) -> Result<Quantity> {
    let lot = spec.lot_size();
    let want = (spec.min_notional().max(5.0) * 1.2 / limit.get()).max(spec.min_qty());
    let lots = (want / lot).ceil();
    Ok(spec.round_qty(lots * lot))
}
