#!/usr/bin/env bash
# Throughput and memory of `synack trace --read` on a large capture, against
# tcpdump and tshark reading the same file, in one run.
#
#   scripts/bench-trace.sh [CONNECTIONS] [RUNS]     (default 100000 connections, best of 3 runs)
#
# The capture is written synthetically by examples/make-big-pcap.rs from the real
# loopback seed exchange in tests/fixtures/seed.pcap (10 segments per connection).
# Needs: cargo, GNU time (/usr/bin/time); tcpdump and tshark are measured when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-100000}
runs=${2:-3}
big=${BIG_PCAP:-target/bench/big-$conns.pcap}
mkdir -p "$(dirname "$big")"
cargo build --release --quiet --example make-big-pcap
cargo build --release --quiet
[[ -f $big ]] || ./target/release/examples/make-big-pcap "$big" "$conns"
packets=$(./target/release/synack trace --read "$big" --format jsonl | grep -o '"t_ms"' | wc -l)
echo "capture: $big, $conns connections, $packets packets"

# best_of NAME CMD...: best wall time and its peak RSS over $runs runs.
best_of() {
  local name=$1; shift
  local best="" rss=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o /tmp/bench-time.$$ "$@" >/dev/null 2>&1 || true
    read -r t m </tmp/bench-time.$$
    if [[ -z $best ]] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  rm -f /tmp/bench-time.$$
  awk -v n="$name" -v t="$best" -v m="$rss" -v p="$packets" \
    'BEGIN{ printf "%-34s %7.2f s %12.0f packets/s %8.1f MiB peak RSS\n", n, t, (t > 0 ? p / t : 0), m / 1024 }'
  echo "$best" >"/tmp/bench-$name.$$"
}

best_of synack ./target/release/synack trace --read "$big" --format jsonl
if command -v tcpdump >/dev/null; then
  best_of tcpdump tcpdump -nn -r "$big"
  TZ=UTC best_of tcpdump-TZ=UTC env TZ=UTC tcpdump -nn -r "$big"
fi
if command -v tshark >/dev/null; then
  best_of tshark tshark -r "$big"
fi
s=$(cat /tmp/bench-synack.$$)
for other in tcpdump tcpdump-TZ=UTC tshark; do
  [[ -f /tmp/bench-$other.$$ ]] || continue
  o=$(cat "/tmp/bench-$other.$$")
  awk -v o="$o" -v s="$s" -v n="$other" 'BEGIN{ printf "synack is %.1fx %s\n", o / s, n }'
done
rm -f /tmp/bench-*.$$
