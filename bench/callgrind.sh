#!/usr/bin/env bash
# Instructions per candle of the backtest replay, hold and every-10 brains, counted by callgrind:
# stable to the instruction, unlike wall time on a shared machine. Needs valgrind.
#
#   bash bench/callgrind.sh [candles] [--parts]        # default 200000 candles
#
# The figure is the inclusive count of `rustrade_backtest::run::replay` (data generation is
# outside it) divided by the number of candles; the workload is
# crates/rustrade-backtest/examples/trade_path.rs.
#
# With --parts it also splits an order round trip's instructions by kind of work: each source
# file's self cost (inlined code is charged to the file it was written in) in the every-10 run
# minus the hold run, over the round trips (candles / 10), grouped into
#
#   ids         inline text ids: comparison, hashing, fingerprint tables, id issue
#   moves       copies, queues, buffers, options, iterator adapters and bounds checks (the
#               standard library's pointer, slice, `Vec`, `VecDeque`, `Option` code, `memcpy`)
#   rules       everything else: risk gates, sizing, ledgers, fill pricing, order bookkeeping,
#               statistics, the brain and the loop's own control flow
#
# `ids` + `moves` bound from above what laying orders and ids out as small indices could save;
# `rules` is what such a layout leaves.
set -euo pipefail
cd "$(dirname "$0")/.."
n=200000
parts=""
for arg in "$@"; do
  case "$arg" in
    --parts) parts=1 ;;
    *) n="$arg" ;;
  esac
done
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
  [ -n "$parts" ] || continue
  # "  1,234 (0.1%)  /path/to/file.rs:function [binary]" -> "file count"
  callgrind_annotate --threshold=100 "$out/$brain" 2>/dev/null |
    awk '/file:function/ { on = 1; next } /Auto-annotated/ { on = 0 }
      on && $2 ~ /^\(/ {
        n = $1; gsub(",", "", n)
        line = $0; sub(/^ *[0-9,]+ +\([ 0-9.]+%\) +/, "", line)
        file = line; sub(/:.*/, "", file)
        if (match(file, /\/library\//)) file = substr(file, RSTART + RLENGTH)
        else if (match(file, /\/crates\//)) file = substr(file, RSTART + RLENGTH)
        else if (match(file, /index\.crates\.io-[0-9a-f]+\//)) file = substr(file, RSTART + RLENGTH)
        cost[file] += n
      }
      END { for (f in cost) print f, cost[f] }' >"$out/$brain.files"
done
[ -n "$parts" ] || exit 0
awk -v trips="$((n / 10))" '
  function kind(f) {
    if (f ~ /\/(inline_str|print_index|print_slab|id_hash|small_map|fill_memory|client_ids|ids)\.rs$/)
      return "ids"
    if (f ~ /^core\/src\/(ptr|slice|mem|option|iter\/adapters\/take|iter\/range)/ ||
        f ~ /^alloc\/src\/(vec|raw_vec|collections\/vec_deque)/ || f ~ /memmove|memset/) return "moves"
    return "rules"
  }
  FNR == NR { hold[$1] = $2; next }
  { d = ($2 - hold[$1]) / trips; by[kind($1)] += d; all += d
    if (d >= 50) rows[$1] = sprintf("  %-6s %6.0f  %s", kind($1), d, $1) }
  END {
    printf "round trip: %.0f instructions over %d round trips\n", all, trips
    for (k in by) printf "%-6s %6.0f  (%4.1f%%)\n", k, by[k], 100 * by[k] / all
    printf "files adding >= 50 a round trip:\n"
    fflush()
    for (f in rows) print rows[f] | "sort -k1,1 -k2,2nr"
    close("sort -k1,1 -k2,2nr")
  }' "$out/hold.files" "$out/every-10.files"
