#!/usr/bin/env bash
# Where the instructions of an order round trip go, by kind of work, counted by callgrind.
#
#   bash bench/round_trip_parts.sh [candles]        # default 200000
#
# Runs the `trade_path` workload (crates/rustrade-backtest/examples/trade_path.rs) with the hold
# and the every-10 brain, takes each source file's self cost (inlined code is charged to the file
# it was written in), subtracts the hold run's from the every-10 run's and divides by the round
# trips (candles / 10): what trading adds on top of replaying. Files are grouped into
#
#   ids         inline text ids: comparison, hashing, fingerprint tables, id issue
#   moves       copies, queues, buffers, options, iterator adapters and bounds checks (the standard library's
#               pointer, slice, `Vec`, `VecDeque`, `Option` code and `memcpy`)
#   rules       everything else: risk gates, sizing, ledgers, fill pricing, order bookkeeping,
#               statistics, the brain and the loop's own control flow
#
# `ids` + `moves` bound from above what laying orders and ids out as small indices could save;
# `rules` is what such a layout leaves. Needs valgrind.
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
  valgrind --tool=callgrind --callgrind-out-file="$out/$brain" "$bin" "$n" $arg >/dev/null 2>&1
  # "  1,234 (0.1%)  /path/to/file.rs:function [binary]" -> "file-suffix count"
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
