#!/usr/bin/env bash
# Records the golden pcap fixtures in tests/fixtures from real loopback traffic:
# tcpdump captures one run of synack's own echo server and client per file, each
# on its own port, so the fixtures and the built-in scenarios are the same thing
# (src/scenario.rs is the one table of scenarios).
# Needs root (or CAP_NET_RAW for tcpdump). Usage: scripts/record-fixtures.sh [FIXTURE...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
synack=target/release/synack
out=${FIXTURES_DIR:-tests/fixtures}   # FIXTURES_DIR=/tmp/x records elsewhere
mkdir -p "$out"
fixtures=("$@")
[[ ${#fixtures[@]} -gt 0 ]] || fixtures=(seed client-first server-first slow-close half-close abort refused ipv6 seed-any seed-snap68)
log=$(mktemp)
server=""
capture=""
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null
  [[ -n $capture ]] && kill -INT "$capture" 2>/dev/null
  rm -f "$log"
}
trap cleanup EXIT
port=18100
for f in "${fixtures[@]}"; do
  port=$((port + 1))
  file="$out/$f.pcap"
  opts=(-i lo)
  host=127.0.0.1
  scenario=$f
  case $f in
    seed-any) opts=(-i any); scenario=seed ;;            # Linux cooked v2 (SLL2)
    seed-snap68) opts=(-i lo -s 68); scenario=seed ;;    # truncated frames: headers only
    client-first) scenario=client-close ;;
    server-first) scenario=server-close ;;
    ipv6) host='[::1]'; scenario=seed ;;
  esac
  : >"$log"
  tcpdump -Z root --immediate-mode "${opts[@]}" -U -w "$file" "tcp port $port" 2>"$log" &
  capture=$!
  for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
  if [[ $scenario != refused ]]; then
    coproc SERVE { exec "$synack" serve --addr "$host:$port"; }
    server=$SERVE_PID
    read -r _ <&"${SERVE[0]}"   # "synack: echo server listening on ...": it is ready
  fi
  "$synack" client --addr "$host:$port" --scenario "$scenario"
  if [[ -n $server ]]; then kill -INT "$server"; wait "$server" || true; server=""; fi
  sleep 0.5   # let the last segments reach the capture
  kill -INT "$capture"; wait "$capture" || true; capture=""
  echo "$file: $(tcpdump -r "$file" 2>/dev/null | wc -l) packets"
done
# Other writers' formats of the same traffic: pcapng and nanosecond pcap (editcap, from tshark).
if [[ -f $out/seed.pcap ]] && command -v editcap >/dev/null; then
  editcap -F pcapng "$out/seed.pcap" "$out/seed.pcapng"
  editcap -F nsecpcap "$out/seed.pcap" "$out/seed-nsec.pcap"
fi
