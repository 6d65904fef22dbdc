#!/usr/bin/env bash
# Instructions per candle of the backtest replay, hold and every-10 brains, counted by callgrind:
# stable to the instruction, unlike wall time on a shared machine. Needs valgrind.
#
#   bash bench/callgrind.sh [candles]        # default 200000
#
# The figure is the inclusive count of `rustrade_backtest::run::replay` (data generation is
# outside it) divided by the number of candles; the workload is
# crates/rustrade-backtest/examples/trade_path.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200000}"
cargo build --release -p rustrade-backtest --example trade_path 2>/dev/null
bin="${CARGO_TARGET_DIR:-target}/release/examples/trade_path"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for brain in hold every-10; do
  arg=""
  [ "$brain" = hold ] && arg=hold
  valgrind --tool=callgrind --callgrind-out-file="$out/$brain" "$bin" "$n" $arg >"$out/$brain.log" 2>&1
  ir="$(callgrind_annotate --inclusive=yes "$out/$brain" 2>/dev/null |
    awk '!done && /rustrade_backtest::run::replay/ { gsub(",", "", $1); print $1; done = 1 }')"
  printf '%-9s %s  %s instructions per candle\n' "$brain" "$(grep candles "$out/$brain.log")" \
    "$(awk -v ir="$ir" -v n="$n" 'BEGIN { printf "%.0f", ir / n }')"
done
