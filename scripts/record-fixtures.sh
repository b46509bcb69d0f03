#!/usr/bin/env bash
# Records the golden pcap fixtures in tests/fixtures from real loopback traffic:
# tcpdump captures one scenario of scripts/peer.py per file, each on its own port.
# Needs root (or CAP_NET_RAW for tcpdump) and python3. Usage: scripts/record-fixtures.sh [SCENARIO...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures
mkdir -p "$out"
scenarios=("$@")
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(seed client-first server-first slow-close half-close abort refused ipv6 seed-any seed-snap68)
port=18100
for s in "${scenarios[@]}"; do
  port=$((port + 1))
  file="$out/$s.pcap"
  opts=(-i lo)
  case $s in
    seed-any) opts=(-i any) ;;           # Linux cooked v2 (SLL2)
    seed-snap68) opts=(-i lo -s 68) ;;   # truncated frames: headers only
  esac
  tcpdump -Z root --immediate-mode "${opts[@]}" -U -w "$file" "tcp port $port" 2>/tmp/synack-tcpdump.$$ &
  pid=$!
  for _ in $(seq 50); do grep -q listening /tmp/synack-tcpdump.$$ && break; sleep 0.1; done
  peer=$s
  [[ $s == seed-* ]] && peer=seed
  python3 scripts/peer.py "$peer" "$port"
  sleep 0.5
  kill -INT "$pid"; wait "$pid" || true
  echo "$file: $(tcpdump -r "$file" 2>/dev/null | wc -l) packets"
done
rm -f /tmp/synack-tcpdump.$$
# Other writers' formats of the same traffic: pcapng and nanosecond pcap (editcap, from tshark).
if [[ -f $out/seed.pcap ]] && command -v editcap >/dev/null; then
  editcap -F pcapng "$out/seed.pcap" "$out/seed.pcapng"
  editcap -F nsecpcap "$out/seed.pcap" "$out/seed-nsec.pcap"
fi
