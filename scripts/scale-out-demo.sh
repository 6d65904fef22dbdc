#!/usr/bin/env bash
# One machine standing in for several: one relay, three paper bots whose state shares one
# PostgreSQL database, and a sweep spread over two workers, all through one NATS server.
#
#   scripts/scale-out-demo.sh [NATS_URL] [POSTGRES_URL]
#
# Defaults: nats://127.0.0.1:4222 (JetStream enabled) and
# postgres://postgres@127.0.0.1:5432/test. It replays the shipped daily Bitcoin file, so it
# needs no venue and no keys. docs/scaling-out.md walks through what each step shows.
set -euo pipefail
cd "$(dirname "$0")/.."

nats="${1:-nats://127.0.0.1:4222}"
pg="${2:-postgres://postgres@127.0.0.1:5432/test}"
run_id="demo$$"
schema="scale_${run_id}"
work="$(mktemp -d)"
data="$PWD/examples/data/Bitcoin.csv"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -q -p rustrade-cli
rustrade="$PWD/target/release/rustrade"

market() {
    cat <<TOML
[[market]]
symbol = "BTCUSD"
file = "$data"
interval = "1d"
asset_class = "crypto_spot"
tick_size = 0.01
lot_size = 0.00001
TOML
}

# 1. The relay: publishes the file's bars once to md.${run_id}.BTCUSD.candle.
{
    printf '[relay]\nnats_url = "%s"\nstream = "md_%s"\nvenue = "%s"\n\n' "$nats" "$run_id" "$run_id"
    market
} >"$work/relay.toml"
echo "== relay"
"$rustrade" relay "$work/relay.toml"

# 2. Three bots with different parameters, one stream, one database (one schema, a row per bot).
bot_config() { # name fast slow
    market
    cat <<TOML

[strategy]
name = "sma_cross"

[strategy.params]
fast = $2
slow = $3

[account]
initial_cash = 10000.0

[execution]
fill = "next_open"
taker_fee_bps = 10.0
maker_fee_bps = 10.0
slippage_bps = 5.0

[market_data]
nats_url = "$nats"
stream = "md_${run_id}"
venue = "${run_id}"
start = "all"
stop_when_caught_up = true

[bot]
name = "$1"
state_url = "$pg"
state_schema = "$schema"
TOML
}
echo "== three paper bots on the relayed stream"
for spec in "bot-a 10 30" "bot-b 5 20" "bot-c 20 50"; do
    set -- $spec
    bot_config "$1" "$2" "$3" >"$work/$1.toml"
    (cd "$work" && "$rustrade" paper "$1.toml" >"$1.log" 2>&1) &
    pids+=("$!")
done
for pid in "${pids[@]}"; do wait "$pid"; done
pids=()
echo "fills and net PnL per bot, from PostgreSQL:"
psql "$pg" -c "SELECT f.bot_id, count(*) AS fills,
                      (SELECT round(sum(net_pnl)::numeric, 2) FROM ${schema}.trades t
                        WHERE t.bot_id = f.bot_id) AS net_pnl
               FROM ${schema}.fills f GROUP BY f.bot_id ORDER BY f.bot_id"

# 3. A sweep over two workers, and the same sweep run locally: the tables are identical.
cp examples/sma-cross.toml "$work/sweep.toml"
sed -i "s|file = \"data/Bitcoin.csv\"|file = \"$data\"|" "$work/sweep.toml"
echo "== two workers and a distributed sweep"
for w in 1 2; do
    "$rustrade" worker "$nats" --queue "q_${run_id}" --cache "$work/cache$w" >"$work/worker$w.log" 2>&1 &
    pids+=("$!")
done
mkdir -p "$work/remote" "$work/local"
(cd "$work/remote" && "$rustrade" sweep ../sweep.toml --workers "$nats" --queue "q_${run_id}")
(cd "$work/local" && "$rustrade" sweep ../sweep.toml >/dev/null)
remote_csv=$(find "$work/remote" -name sweep.csv | head -n 1)
local_csv=$(find "$work/local" -name sweep.csv | head -n 1)
if cmp -s "$remote_csv" "$local_csv"; then
    echo "the distributed sweep's sweep.csv equals the local one"
else
    echo "the distributed sweep's sweep.csv differs from the local one" >&2
    exit 1
fi
PGOPTIONS="--client-min-messages=warning" psql "$pg" -qc "DROP SCHEMA ${schema} CASCADE"
# The stream md_<id> and the queue q_<id> stay on the server; the stream ages out after the
# relay's max_age (7 days by default).
