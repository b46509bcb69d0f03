#!/usr/bin/env bash
# Peak memory and time of `synack trace --read` on the inputs that once made it grow
# without bound, beside tcpdump reading the same files in the same run:
#   - one connection of SEGMENTS segments (default 10,000,000), text and jsonl;
#   - SYNS unanswered SYNs (default 1,000,000), jsonl.
#
#   scripts/bench-memory.sh [SEGMENTS] [SYNS]
#
# The captures are written by examples/make-hostile-pcap.rs under target/bench/.
# Needs: cargo, GNU time (/usr/bin/time); tcpdump when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
segments=${1:-10000000}
syns=${2:-1000000}
mkdir -p target/bench
cargo build --release --quiet --example make-hostile-pcap
cargo build --release --quiet
long=target/bench/long-$segments.pcap
flood=target/bench/syns-$syns.pcap
[[ -f $long ]] || ./target/release/examples/make-hostile-pcap long "$long" "$segments"
[[ -f $flood ]] || ./target/release/examples/make-hostile-pcap syns "$flood" "$syns"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# measure NAME CMD...: one run; prints its wall time and peak RSS, and sets T and M to them.
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$tmp" "$@" >/dev/null 2>&1 || true
  read -r T M <"$tmp"
  printf '  %-30s %8s s %10s KiB\n' "$name" "$T" "$M"
}
# ratio A_TIME A_RSS B_TIME B_RSS
ratio() { awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN { printf "  synack / tcpdump: %.2fx the time, %.1fx the memory\n", a / c, b / d }'; }

echo "one connection of $segments segments ($long)"
measure "synack trace --format text" ./target/release/synack trace --read "$long" --format text
measure "synack trace --format jsonl" ./target/release/synack trace --read "$long" --format jsonl
jt=$T jm=$M
if command -v tcpdump >/dev/null; then
  measure "tcpdump -nn -r" tcpdump -nn -r "$long"
  ratio "$jt" "$jm" "$T" "$M"
fi
echo "$syns unanswered SYNs ($flood)"
measure "synack trace --format jsonl" ./target/release/synack trace --read "$flood" --format jsonl
jt=$T jm=$M
if command -v tcpdump >/dev/null; then
  measure "tcpdump -nn -r" tcpdump -nn -r "$flood"
  ratio "$jt" "$jm" "$T" "$M"
fi
