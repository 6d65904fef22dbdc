#!/usr/bin/env bash
# Sweep throughput over `rustrade worker` processes on this machine, against local threads.
#
#   cargo build --release -p rustrade-cli
#   crates/rustrade-cli/benches/sweep_workers.sh [RUNS] [CANDLES]
#
# Needs a NATS server with JetStream at $RUSTRADE_NATS_URL (default nats://127.0.0.1:4222).
# Workload: sma_cross over CANDLES hourly candles (a seeded random walk), a grid of 8 x 8 = 64
# points. Each run starts fresh workers (they fetch and parse the data themselves, as on a new
# machine), waits until they are connected, then times the coordinator from start to the written
# table. Uses the default queue `rustrade_sweep`. Prints one line per run: mode, seconds, points/s, points x candles/s.
set -euo pipefail
RUNS=${1:-3}
CANDLES=${2:-100000}
URL=${RUSTRADE_NATS_URL:-nats://127.0.0.1:4222}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${RUSTRADE_BIN:-$ROOT/target/release/rustrade}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cd "$WORK"

python3 - "$CANDLES" > data.csv <<'PY'
import random, sys, datetime
n = int(sys.argv[1]); rng = random.Random(7); p = 100.0
t = datetime.datetime(2000, 1, 1)
print("date,open,high,low,close,volume")
for i in range(n):
    o = p; p = max(1.0, p * (1 + rng.gauss(0, 0.004)))
    hi = max(o, p) * (1 + abs(rng.gauss(0, 0.001))); lo = min(o, p) * (1 - abs(rng.gauss(0, 0.001)))
    print(f"{(t + datetime.timedelta(hours=i)).strftime('%Y-%m-%d %H:%M:%S')},{o:.2f},{hi:.2f},{lo:.2f},{p:.2f},{rng.randint(1, 1000)}")
PY
cat > sweep.toml <<'TOML'
[[market]]
symbol = "SYNUSD"
file = "data.csv"
interval = "1h"

[strategy]
name = "sma_cross"

[sweep.grid]
fast = [3, 4, 5, 6, 7, 8, 9, 10]
slow = [20, 25, 30, 35, 40, 45, 50, 55]
TOML
POINTS=64

rate() { # seconds -> "points/s points*candles/s"
  awk -v s="$1" -v p="$POINTS" -v c="$CANDLES" 'BEGIN { printf "%.1f %.3g", p / s, p * c / s }'
}
timed() { # label command... -> one result line
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
  local s; s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  echo "$label $s $(rate "$s")"
}

for run in $(seq 1 "$RUNS"); do
  timed "local-threads-1" "$BIN" sweep sweep.toml -q --threads 1 --out out-local1
  timed "local-threads-2" "$BIN" sweep sweep.toml -q --threads 2 --out out-local2
  for n in 1 2; do
    pids=()
    for w in $(seq 1 "$n"); do
      "$BIN" worker "$URL" --cache "cache-$w" 2> "worker-$w.log" &
      pids+=($!)
    done
    for w in $(seq 1 "$n"); do
      until grep -q "taking jobs" "worker-$w.log"; do sleep 0.05; done
    done
    timed "workers-$n" "$BIN" sweep sweep.toml -q --workers "$URL" --out "out-w$n"
    kill -TERM "${pids[@]}"; wait "${pids[@]}" || true
    cmp out-local1/sweep.csv "out-w$n/sweep.csv"
    rm -rf cache-*
  done
done
