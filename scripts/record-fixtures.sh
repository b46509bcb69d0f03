#!/usr/bin/env bash
# Records the golden pcap fixtures in tests/fixtures from real loopback traffic:
# tcpdump captures one run of synack's own echo server and client per file, each
# on its own port, so the fixtures and the built-in scenarios are the same thing
# (src/scenario.rs is the one table of scenarios). The situations those scenarios do not
# make (a full accept queue, a lost last ACK, TIME-WAIT taken over by a new SYN, ...) come
# from scripts/fixtures.py, each run in a network namespace of its own (unshare -n) with
# tcpdump on that namespace's lo; backlog-kernel.pcapng is recorded by synack itself with
# the kernel view (trace --kernel on --write); *-calls.pcapng are recorded by
# examples/record-calls.rs, with the built-in programs' own socket calls.
# Needs root (unshare, tcpdump, nft for lost-last-ack; python3).
# Usage: scripts/record-fixtures.sh [FIXTURE...]
set -euo pipefail
cd "$(dirname "$0")/.."
synack=${SYNACK:-target/release/synack}   # SYNACK=path uses that binary, unbuilt
out=${FIXTURES_DIR:-tests/fixtures}   # FIXTURES_DIR=/tmp/x records elsewhere
mkdir -p "$out"
fixtures=("$@")
python_fixtures=(backlog half-close-data unread-rst fin-data lost-last-ack time-wait-reuse time-wait-reuse-client)
# Recorded with the built-in programs' own socket calls (examples/record-calls.rs).
calls_fixtures=(seed-calls stream-calls)
[[ ${#fixtures[@]} -gt 0 ]] || fixtures=(seed client-first server-first slow-close half-close abort refused ipv6 seed-any
  seed-snap68 "${python_fixtures[@]}" backlog-kernel "${calls_fixtures[@]}")
log=$(mktemp)
server=""
capture=""
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null
  [[ -n $capture ]] && kill -INT "$capture" 2>/dev/null
  rm -f "$log"
}
trap cleanup EXIT
# One scripts/fixtures.py scenario ($1) on port $2, captured into $3: by tcpdump, or by synack
# with the kernel view when $4 is "kernel". The namespace's own lo carries nothing else.
in_namespace() {
  ip link set lo up
  local log
  log=$(mktemp)
  if [[ ${4:-} == kernel ]]; then
    "$synack" trace --kernel on --port "$2" --write "$3" --duration 20 -o /dev/null 2>"$log" &
    for _ in $(seq 100); do grep -q capturing "$log" && break; sleep 0.1; done
  else
    tcpdump -Z root --immediate-mode -B 16384 -i lo -U -w "$3" "tcp port $2" 2>"$log" &
    for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
  fi
  local capture=$!
  python3 scripts/fixtures.py "$1" "$2"
  if [[ ${4:-} == kernel ]]; then wait $capture; else sleep 0.5; kill -INT $capture; wait $capture || true; fi
  cat "$log" >&2
  rm -f "$log"
}
if [[ ${1:-} == --in-namespace ]]; then
  shift
  in_namespace "$@"
  exit
fi
[[ -n ${SYNACK:-} ]] || cargo build --release --quiet
port=18100
for f in "${fixtures[@]}"; do
  port=$((port + 1))
  if [[ " ${python_fixtures[*]} " == *" $f "* || $f == backlog-kernel ]]; then
    file="$out/$f.pcap" how=tcpdump scenario=$f
    [[ $f == backlog-kernel ]] && file="$out/$f.pcapng" how=kernel scenario=backlog
    unshare -n "$0" --in-namespace "$scenario" "$port" "$file" "$how"
    echo "$file: $(tcpdump -r "$file" 2>/dev/null | wc -l) packets"
    continue
  fi
  if [[ " ${calls_fixtures[*]} " == *" $f "* ]]; then
    cargo run --quiet --release --example record-calls -- "$out/$f.pcapng" "${f%-calls}" "$port"
    continue
  fi
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
