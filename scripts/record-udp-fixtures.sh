#!/usr/bin/env bash
# Records the TCP-beside-UDP fixtures in tests/fixtures from real loopback traffic, each in a
# network namespace of its own (unshare -n: its lo carries nothing else), with tcpdump on
# that lo capturing '(tcp or udp) and port P or icmp or icmp6' and synack's own echo server
# and client making the traffic (docs/tcp-vs-udp.md reads them):
#   tcp-udp.pcap      the same "helloworld" over TCP (the seed scenario), then over UDP
#   closed-port.pcap  TCP connect to 127.0.0.2:P (nothing listens: RST), then a UDP datagram
#                     there on a connected socket (ICMP port unreachable, ECONNREFUSED)
#   lost.pcap         the seed scenario with the server's reply dropped once, then the udp
#                     scenario with its datagram dropped once (nftables)
#   lost-request.pcap the seed scenario with the client's request dropped once (nftables)
# Needs root (unshare, tcpdump, nft).
# Usage: scripts/record-udp-fixtures.sh [FIXTURE...]
set -euo pipefail
cd "$(dirname "$0")/.."
synack=${SYNACK:-target/release/synack}   # SYNACK=path uses that binary, unbuilt
out=${FIXTURES_DIR:-tests/fixtures}

# One fixture ($1) on port $2 into $3, inside the namespace.
in_namespace() {
  local name=$1 port=$2 file=$3 log capture server=""
  ip link set lo up
  log=$(mktemp)
  tcpdump -Z root --immediate-mode -i lo -U -w "$file" "(tcp or udp) and port $port or icmp or icmp6" 2>"$log" &
  capture=$!
  for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
  if [[ $name != closed-port ]]; then
    coproc SERVE { exec "$synack" serve --addr "127.0.0.1:$port" 2>/dev/null; }
    server=$SERVE_PID
    read -r _ <&"${SERVE[0]}"   # "synack: echo server listening on ...": it is ready
  fi
  local addr="127.0.0.1:$port"
  case $name in
    tcp-udp)
      "$synack" client --addr "$addr" --scenario seed
      "$synack" client --addr "$addr" --scenario udp ;;
    closed-port)
      "$synack" client --addr "127.0.0.2:$port" --scenario refused
      "$synack" client --addr "$addr" --scenario udp-closed ;;
    lost)
      nft add table inet lose
      nft add chain inet lose in '{ type filter hook input priority 0; }'
      # On their way in (the capture sees them leave): "limit ... burst 1" matches the
      # first packet only, so it alone is dropped.
      nft add rule inet lose in "tcp sport $port tcp flags & psh == psh limit rate 1/hour burst 1 packets drop"
      nft add rule inet lose in "udp dport $port limit rate 1/hour burst 1 packets drop"
      "$synack" client --addr "$addr" --scenario seed
      "$synack" client --addr "$addr" --scenario udp || true   # no reply: said, as intended
      nft delete table inet lose ;;
    lost-request)
      nft add table inet lose
      nft add chain inet lose in '{ type filter hook input priority 0; }'
      nft add rule inet lose in "tcp dport $port tcp flags & psh == psh limit rate 1/hour burst 1 packets drop"
      "$synack" client --addr "$addr" --scenario seed
      nft delete table inet lose ;;
  esac
  if [[ -n $server ]]; then kill -INT "$server"; wait "$server" || true; fi
  sleep 0.5   # let the last packets reach the capture
  kill -INT "$capture"; wait "$capture" || true
  rm -f "$log"
}

if [[ ${1:-} == --in-namespace ]]; then
  shift
  in_namespace "$@"
  exit
fi
[[ -n ${SYNACK:-} ]] || cargo build --release --quiet
mkdir -p "$out"
fixtures=("$@")
[[ ${#fixtures[@]} -gt 0 ]] || fixtures=(tcp-udp closed-port lost)
port=18200
for f in "${fixtures[@]}"; do
  port=$((port + 1))
  file="$out/$f.pcap"
  unshare -n "$0" --in-namespace "$f" "$port" "$file"
  echo "$file: $(tcpdump -r "$file" 2>/dev/null | wc -l) packets"
done
