#!/usr/bin/env bash
# Writes starting inputs for every fuzz target into fuzz/corpus/<target>/ from files the
# repository already has. Each input's first byte is the target's mode byte (see the target's
# doc comment); the rest is the payload. Safe to re-run: files are overwritten, never removed.
set -euo pipefail
cd "$(dirname "$0")"
root=..
data=$root/crates/rustrade-backtest/tests/data

mkdir -p corpus/csv_candles corpus/config_toml corpus/execution_report corpus/engine_snapshot \
  corpus/core_types

# CSV: the head of each sample file under auto, sorted and bar-interval options, and Binance rows.
for f in "$data"/*.csv; do
  name=$(basename "$f" .csv)
  for flags in 0 2 4; do
    { printf "\\x0$flags"; head -n 12 "$f"; } > "corpus/csv_candles/$name-$flags"
  done
done
binance='1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68,1704070799999,53957248.97,47134,682.58,28966359.43,0
1704070800000,42475.23,42775,42431.65,42613.56,1196.37,1704074399999,50976121.31,44381,630.35,26855792.35,0'
for flags in 0 1 3; do
  { printf "\\x0$flags"; printf '%s\n' "$binance"; } > "corpus/csv_candles/binance-$flags"
done

# Config: the `rustrade init` template and the shipped examples.
cp "$root/crates/rustrade-cli/assets/init.toml" corpus/config_toml/init.toml
for f in "$root"/examples/*.toml; do
  cp "$f" "corpus/config_toml/$(basename "$f")"
done

# JSON targets: a mode byte that selects "mutate the built-in valid sample" (odd for the report
# and snapshot targets, bit 3 set plus the type in the low bits for core_types); the bytes after it
# steer the mutations, so a few different tails start the search in different places.
for i in 1 2 3 4 5 6 7 8; do
  printf "\\x01%s" "$(printf 'seed%02d' "$i" | sha256sum | cut -c1-24)" > "corpus/execution_report/mutate-$i"
  printf "\\x01%s" "$(printf 'snap%02d' "$i" | sha256sum | cut -c1-24)" > "corpus/engine_snapshot/mutate-$i"
done
for kind in 0 1 2 3 4 5; do
  mode=$(printf '%03o' $((kind + 8)))
  printf "\\$mode%s" "$(printf 'core%02d' "$kind" | sha256sum | cut -c1-24)" \
    > "corpus/core_types/mutate-$kind"
done
printf '\x00{"type":"fill","fill_id":"f1","order_id":"o1","client_id":null,"symbol":"BTCUSDT","side":"buy","price":100.0,"quantity":1.0,"fee":0.0,"fee_asset":"USDT","liquidity":"taker","time":0}' \
  > corpus/execution_report/raw-fill
