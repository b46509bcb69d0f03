#!/usr/bin/env bash
# What does listen(3) bound? Runs synack's backlog scenario (the server turns to
# listen(3), accepts nothing for 2 s, eight clients connect at once, then one
# accept every 200 ms) in a network namespace of its own, so the kernel's
# counters are this run's alone, and prints:
#   - the listener's Recv-Q/Send-Q (ss -ltn) and its SYN-RECV sockets, every
#     50 ms, one line per change;
#   - ListenOverflows, ListenDrops and SyncookiesSent grown during the run;
#   - the capture's text ladders (synack trace), written to $OUT/backlog.txt;
# then the SYN queue alone: a Python listener with listen(3) and
# TCP_DEFER_ACCEPT (a bare third ACK leaves the handshake in the SYN queue),
# eight clients: how many request sockets it keeps, and SYN cookies beyond.
# docs/listen-backlog.md quotes one run. Needs root (unshare -n), ss, python3.
# Usage: scripts/listen-backlog.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
synack=${SYNACK:-target/debug/synack}
out=${1:-$(mktemp -d)}
mkdir -p "$out"
if [[ ${SYNACK_NETNS:-} != 1 ]]; then
  exec unshare -n env SYNACK_NETNS=1 SYNACK="$synack" "$0" "$out"
fi
ip link set lo up
port=8001
counters() {
  awk '/^TcpExt:/ { if (!n) { split($0, names); n = 1 } else { for (i = 2; i <= NF; i++) v[names[i]] = $i } }
       END { print v["ListenOverflows"], v["ListenDrops"], v["SyncookiesSent"] }' /proc/net/netstat
}
"$synack" serve --addr 127.0.0.1:$port >/dev/null 2>&1 &
server=$!
"$synack" trace --port $port --kernel off --count 8 --duration 20 --format text --output "$out/backlog.txt" &
trace=$!
trap 'kill $server 2>/dev/null || true' EXIT
until ss -Hltn "sport = :$port" | grep -q LISTEN; do sleep 0.05; done
sleep 0.5 # the capture opens its socket
read -r o0 d0 c0 < <(counters)
(
  start=$(date +%s%N)
  last=""
  while kill -0 $server 2>/dev/null; do
    now=$(( ($(date +%s%N) - start) / 1000000 ))
    q=$(ss -Hltn "sport = :$port" | awk '{print "Recv-Q " $2 " Send-Q " $3}')
    syn=$(ss -Htn state syn-recv "sport = :$port" | wc -l)
    line="$q SYN-RECV $syn"
    [[ $line != "$last" ]] && printf '%6d ms  %s\n' "$now" "$line"
    last=$line
    sleep 0.05
  done
) >"$out/ss.txt" &
monitor=$!
"$synack" client --addr 127.0.0.1:$port --scenario backlog
wait $trace
read -r o1 d1 c1 < <(counters)
kill $server
wait $monitor 2>/dev/null || true
echo "== ss -ltn during the run (ms from the scenario's start; one line per change)"
cat "$out/ss.txt"
echo "== kernel counters grown: ListenOverflows +$((o1 - o0)) ListenDrops +$((d1 - d0)) SyncookiesSent +$((c1 - c0))"
echo "== the capture: $out/backlog.txt"
grep -E "^#|close:|did not take|SYN queue|accept queue" "$out/backlog.txt" | cut -c1-160 | head -40
echo "== the SYN queue alone: listen(3), TCP_DEFER_ACCEPT, eight clients"
python3 - <<'PY'
import socket, subprocess
def counters():
    lines = [l.split() for l in open('/proc/net/netstat') if l.startswith('TcpExt:')]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 30)
s.bind(('127.0.0.1', 0)); s.listen(3)
port = s.getsockname()[1]
before = counters()
clients = [socket.create_connection(('127.0.0.1', port)) for _ in range(8)]
after = counters()
listen = subprocess.run(['ss', '-Hltn', f'sport = :{port}'], capture_output=True, text=True).stdout.split()
syn = subprocess.run(['ss', '-Htn', 'state', 'syn-recv', f'sport = :{port}'], capture_output=True, text=True).stdout
print(f"ss -ltn: Recv-Q {listen[1]} Send-Q {listen[2]}; SYN-RECV sockets: {syn.count(chr(10))}; "
      f"SyncookiesSent +{after['SyncookiesSent'] - before['SyncookiesSent']}")
PY
