#!/usr/bin/env bash
# Attribution against tshark: for every capture given (files or directories),
# the TCP segments tshark decodes (ICMP errors' quoted segments left out) and
# the segments synack attributes to a connection; prints one line per capture
# where they differ, then the totals and their ratio. A capture synack cannot
# open (or takes longer than 20 s on) is listed as such.
#
#   scripts/compare-tshark.sh ~/captures/ tcpdump-4.99.3/tests/*.pcap
set -euo pipefail
synack=${SYNACK:-target/release/synack}
command -v tshark >/dev/null || { echo "needs tshark (apt-get install tshark)" >&2; exit 2; }
[ -x "$synack" ] || { echo "build first: cargo build --release" >&2; exit 2; }
files=()
for arg in "$@"; do
  if [ -d "$arg" ]; then
    while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$arg" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.pcap.gz' \) -print0 | sort -z)
  else
    files+=("$arg")
  fi
done
# Segments in synack's jsonl: one "dir" key each kept, plus those a long
# connection counted without keeping them ("elided").
segments() {
  local kept elided
  kept=$(printf '%s' "$1" | { grep -o '"dir":' || true; } | wc -l)
  elided=$(printf '%s' "$1" | { grep -o '"elided":{"segments":[0-9]*' || true; } | awk -F: '{ s += $3 } END { print s + 0 }')
  echo $((kept + elided))
}
total_t=0 total_s=0 failed=0 n=0
for f in "${files[@]}"; do
  n=$((n + 1))
  t=$(timeout 60 tshark -n -r "$f" -Y 'tcp && !icmp && !icmpv6' -T fields -e frame.number 2>/dev/null | wc -l || true)
  if out=$(timeout 20 "$synack" trace --quiet --format jsonl --read "$f" 2>/tmp/compare-tshark.err); then
    s=$(segments "$out")
  else
    status=$?
    s=$(segments "$out")
    failed=$((failed + 1))
    echo "exit $status: $f: $(head -c 200 /tmp/compare-tshark.err | tr '\n' ' ')"
  fi
  total_t=$((total_t + t))
  total_s=$((total_s + s))
  if [ "$t" != "$s" ]; then
    echo "differs: $f: tshark $t, synack $s"
  fi
done
echo "captures: $n, synack failed on $failed"
echo "tcp segments: tshark $total_t, synack $total_s"
awk -v t="$total_t" -v s="$total_s" 'BEGIN { if (t > 0) printf "attributed: %.2f %%\n", 100 * s / t }'
