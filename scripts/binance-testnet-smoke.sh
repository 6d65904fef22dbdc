#!/usr/bin/env bash
# Binance testnet smoke test: places, queries and cancels one tiny post-only order on the Spot
# testnet and/or the USD-M futures testnet, printing every answer (example binary
# crates/rustrade-binance/examples/testnet_smoke.rs).
#
# Needs testnet API keys in the environment (create them at https://testnet.binance.vision and
# https://testnet.binancefuture.com; never production keys):
#   BINANCE_SPOT_TESTNET_KEY     and  BINANCE_SPOT_TESTNET_SECRET     (or ..._ED25519_PEM=path)
#   BINANCE_FUTURES_TESTNET_KEY  and  BINANCE_FUTURES_TESTNET_SECRET  (or ..._ED25519_PEM=path)
# The futures account must be in one-way position mode.
#
# Usage: scripts/binance-testnet-smoke.sh [spot|futures|both] [SYMBOL]   (default: both BTCUSDT)
#
# Talks to the network: never run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

which=${1:-both}
symbol=${2:-BTCUSDT}
case "$which" in
  spot) products=(SPOT) ;;
  futures) products=(FUTURES) ;;
  both) products=(SPOT FUTURES) ;;
  *) echo "usage: $0 [spot|futures|both] [SYMBOL]" >&2; exit 2 ;;
esac

missing=0
for p in "${products[@]}"; do
  key="BINANCE_${p}_TESTNET_KEY"
  secret="BINANCE_${p}_TESTNET_SECRET"
  pem="BINANCE_${p}_TESTNET_ED25519_PEM"
  if [[ -z "${!key:-}" ]]; then
    echo "missing $key" >&2; missing=1
  fi
  if [[ -z "${!secret:-}" && -z "${!pem:-}" ]]; then
    echo "missing $secret (or $pem)" >&2; missing=1
  fi
done
if [[ $missing -ne 0 ]]; then
  exit 2
fi

exec cargo run --quiet --locked -p rustrade-binance --example testnet_smoke -- "$which" "$symbol"
