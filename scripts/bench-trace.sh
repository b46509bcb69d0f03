#!/usr/bin/env bash
# Throughput and memory of `synack trace --read` on a large capture, against
# tcpdump and tshark reading the same file, in one run.
#
#   scripts/bench-trace.sh [CONNECTIONS] [RUNS]     (default 100000 connections, best of 3 runs)
#
# Each reader runs RUNS times, output to /dev/null; the best wall time is
# kept, with its peak RSS. synack is measured in both formats, on one thread
# (--threads 1) and on every core (--threads N, N = nproc), and each figure is
# then given as a ratio to tcpdump's and tshark's from the same run.
#
# The capture is written synthetically by examples/make-big-pcap.rs from the real
# loopback seed exchange in tests/fixtures/seed.pcap (10 segments per connection).
# REFERENCE=path/to/another/synack measures that binary too, run for run beside
# this one (a build from before a change, say), and gives each figure as a ratio to it.
# Needs: cargo, GNU time (/usr/bin/time); tcpdump and tshark are measured when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-100000}
runs=${2:-3}
big=${BIG_PCAP:-target/bench/big-$conns.pcap}
cores=$(nproc)
mkdir -p "$(dirname "$big")"
cargo build --release --quiet --example make-big-pcap
cargo build --release --quiet
[[ -f $big ]] || ./target/release/examples/make-big-pcap "$big" "$conns"
packets=$(./target/release/synack trace --read "$big" --format jsonl | grep -o '"t_ms"' | wc -l)
echo "capture: $big, $conns connections, $packets packets; best of $runs runs, $cores cores"
results=$(mktemp)
trap 'rm -f "$results" "$results.time"' EXIT

# once CMD...: one run: its wall time in seconds (from the clock: GNU time rounds to 10 ms)
# and its peak RSS in KiB (from GNU time), on one line.
once() {
  local t0 t1 m
  t0=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$results.time" "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  read -r m <"$results.time"
  awk -v a="$t0" -v b="$t1" -v m="$m" 'BEGIN{ printf "%.3f %s\n", (b - a) / 1e9, m }'
}

# report NAME TIMES...: the best of "seconds rss" lines, printed and kept for the ratios.
report() {
  local name=$1; shift
  printf '%s\n' "$@" | sort -n | head -1 | awk -v n="$name" -v p="$packets" -v f="$results" \
    '{ printf "%-36s %6.3f s %12.0f packets/s %7.1f MiB peak RSS\n", n, $1, ($1 > 0 ? p / $1 : 0), $2 / 1024
       printf "%s\t%s\n", n, $1 >> f }'
}

# best_of NAME CMD...: best wall time and its peak RSS over $runs runs.
best_of() {
  local name=$1; shift
  local times=()
  for _ in $(seq "$runs"); do times+=("$(once "$@")"); done
  report "$name" "${times[@]}"
}

synack=./target/release/synack
reference=${REFERENCE:-}
for format in jsonl text; do
  for threads in 1 "$cores"; do
    args=(trace --read "$big" --format "$format" --threads "$threads")
    if [[ -n $reference ]]; then
      # Run for run, alternately: a machine whose load changes affects both alike.
      ours=() theirs=()
      for _ in $(seq "$runs"); do
        theirs+=("$(once "$reference" "${args[@]}")")
        ours+=("$(once $synack "${args[@]}")")
      done
      report "reference $format --threads $threads" "${theirs[@]}"
      report "synack $format --threads $threads" "${ours[@]}"
    else
      best_of "synack $format --threads $threads" $synack "${args[@]}"
    fi
  done
done
if command -v tcpdump >/dev/null; then
  best_of "tcpdump -nn -r" tcpdump -nn -r "$big"
  best_of "TZ=UTC tcpdump -nn -r" env TZ=UTC tcpdump -nn -r "$big"
fi
if command -v tshark >/dev/null; then
  best_of "tshark -r" tshark -r "$big"
fi

# Ratios: how many times faster than each reference (above 1: synack is faster).
echo
awk -F'\t' -v cores="$cores" '
  { t[$1] = $2; order[++n] = $1 }
  END {
    for (i = 1; i <= n; i++) if (order[i] ~ /^(synack|reference)/) {
      line = sprintf("%-36s", order[i])
      for (j = 1; j <= n; j++) if (order[j] !~ /^(synack|reference)/)
        line = line sprintf("  %5.1fx %s", t[order[j]] / t[order[i]], order[j])
      print line
    }
    for (f = 1; f <= 2; f++) {
      fmt = (f == 1) ? "jsonl" : "text"
      one = t["synack " fmt " --threads 1"]; many = t["synack " fmt " --threads " cores]
      if (one > 0 && many > 0) printf "synack %s: %d threads are %.2fx one thread\n", fmt, cores, one / many
      for (k = 1; k <= 2; k++) {
        th = (k == 1) ? 1 : cores
        ref = t["reference " fmt " --threads " th]; now = t["synack " fmt " --threads " th]
        if (ref > 0 && now > 0) printf "synack %s --threads %d: %.3fx the reference (above 1: faster)\n", fmt, th, ref / now
      }
    }
  }' "$results"
