#!/usr/bin/env bash
# Records the golden pcap fixtures in tests/fixtures from real loopback traffic:
# tcpdump captures one scenario of scripts/peer.py per file, each on its own port.
# Needs root (or CAP_NET_RAW for tcpdump) and python3. Usage: scripts/record-fixtures.sh [SCENARIO...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures
mkdir -p "$out"
scenarios=("$@")
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(seed client-first server-first slow-close half-close abort refused ipv6)
port=18100
for s in "${scenarios[@]}"; do
  port=$((port + 1))
  file="$out/$s.pcap"
  tcpdump -Z root --immediate-mode -i lo -U -w "$file" "tcp port $port" 2>/tmp/synack-tcpdump.$$ &
  pid=$!
  for _ in $(seq 50); do grep -q listening /tmp/synack-tcpdump.$$ && break; sleep 0.1; done
  python3 scripts/peer.py "$s" "$port"
  sleep 0.5
  kill -INT "$pid"; wait "$pid" || true
  echo "$file: $(tcpdump -r "$file" 2>/dev/null | wc -l) packets"
done
rm -f /tmp/synack-tcpdump.$$
