#!/usr/bin/env bash
# Connection rate and capture cost on loopback: `synack client` drives N seed
# connections at concurrency C against `synack serve`, first with no capture, then
# while `synack trace` captures, then while tcpdump does (printing text, and writing
# a file with -B 65536 --immediate-mode). Reports the client's rate, each
# capturer's CPU seconds per 100,000 connections, kernel drops, and whether synack
# reconstructed every connection.
#
#   sudo scripts/bench-live.sh [CONNECTIONS] [CONCURRENCY]   (default 100000, 16)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
c=${2:-16}
port=${PORT:-18555}
cargo build --release --quiet
bin=./target/release/synack
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept: $tmp" || rm -rf "$tmp"' EXIT

$bin serve --addr 127.0.0.1:$port >/dev/null &
sleep 0.3

rate() { grep -o '([0-9]*/s)' "$1" | tr -d '()/s'; }
cpu() { awk '{ printf "%.2f", $1 + $2 }' "$1"; }
per100k() { awk -v s="$1" -v n="$n" 'BEGIN{ printf "%.2f", s * 100000 / n }'; }

echo "load: $n seed connections, concurrency $c, port $port"
$bin client --addr 127.0.0.1:$port --repeat "$n" --concurrency "$c" >"$tmp/none"
printf '%-36s %8s conn/s\n' "no capture" "$(rate "$tmp/none")"

# synack trace, without and with the kernel view
synack_run() {
  local kernel=$1
  # The last run's messages go first: waiting for "capturing on" must see this run's.
  rm -f "$tmp/synack.err"
  /usr/bin/time -f "%U %S" -o "$tmp/synack.cpu" $bin trace --port $port --format jsonl --count "$n" --kernel "$kernel" --duration $((n / 2000 + 20)) \
    >"$tmp/synack.jsonl" 2>"$tmp/synack.err" &
  local tpid=$!
  until grep -q "capturing on" "$tmp/synack.err" 2>/dev/null; do sleep 0.05; done
  $bin client --addr 127.0.0.1:$port --repeat "$n" --concurrency "$c" >"$tmp/with-synack"
  wait $tpid
  local conns complete closed drops s_cpu agreed lost
  conns=$(wc -l <"$tmp/synack.jsonl")
  complete=$(grep -c '"handshake":{"complete":true' "$tmp/synack.jsonl" || true)
  closed=$(grep -Ec '"kind":"(three-way|four-way|simultaneous)"' "$tmp/synack.jsonl" || true)
  drops=$(grep -o '[0-9]* dropped by the kernel' "$tmp/synack.err" | cut -d' ' -f1)
  s_cpu=$(cpu "$tmp/synack.cpu")
  printf '%-36s %8s conn/s  capture CPU %6s s/100k conn  kernel drops %s  reconstructed %s/%s (complete handshake %s, closed %s)\n' \
    "synack trace --kernel $kernel" "$(rate "$tmp/with-synack")" "$(per100k "$s_cpu")" "$drops" "$conns" "$n" "$complete" "$closed"
  if [ "$kernel" = on ]; then
    agreed=$(grep -o '"kernel_agreement":{"transitions":[0-9]*,"agreed":[0-9]*}' "$tmp/synack.jsonl" \
      | awk -F'[:,}]' '{ t += $3; a += $5 } END { printf "%d of %d", a, t }')
    lost=$(grep -o 'kernel view: .*' "$tmp/synack.err" || true)
    printf '%-36s kernel transitions agreed: %s; %s\n' "" "$agreed" "$lost"
  fi
  true
}
synack_run off
synack_run on

# tcpdump printing text
tcpdump_run() {
  local name=$1; shift
  rm -f "$tmp/td.err"
  /usr/bin/time -f "%U %S" -o "$tmp/td.cpu" tcpdump "$@" "tcp port $port" >/dev/null 2>"$tmp/td.err" &
  local pid=$!
  until grep -q "listening on" "$tmp/td.err" 2>/dev/null; do sleep 0.05; done
  $bin client --addr 127.0.0.1:$port --repeat "$n" --concurrency "$c" >"$tmp/with-td"
  sleep 1
  # Stop our tcpdump only: the child of the time(1) started above, by its PID.
  kill -INT $(cat "/proc/$pid/task/$pid/children") 2>/dev/null || true
  wait $pid || true
  local captured dropped
  captured=$(grep -o '[0-9]* packets captured' "$tmp/td.err" | cut -d' ' -f1)
  dropped=$(grep -o '[0-9]* packets dropped by kernel' "$tmp/td.err" | cut -d' ' -f1)
  printf '%-36s %8s conn/s  capture CPU %6s s/100k conn  kernel drops %s  (%s packets captured)\n' \
    "$name" "$(rate "$tmp/with-td")" "$(per100k "$(cpu "$tmp/td.cpu")")" "$dropped" "$captured"
}
if command -v tcpdump >/dev/null; then
  tcpdump_run "tcpdump -nn" -Z root -i lo -nn --immediate-mode
  tcpdump_run "tcpdump -w -B 65536 --immediate-mode" -Z root -i lo -B 65536 --immediate-mode -w "$tmp/td.pcap"
fi
