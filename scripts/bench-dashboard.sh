#!/usr/bin/env bash
# The dashboard's idle CPU, its CPU under load beside tcpdump -nn watching the same
# traffic, and its memory with 10,000 retained connections, measured on the real binary
# in a tmux terminal (as a person would run it).
#
#   sudo scripts/bench-dashboard.sh
#
# Idle: `synack --no-serve` captures a quiet port for 10 s; CPU from /proc/PID/stat.
# Load: the dashboard (200x60; `synack serve` runs apart) while `synack client` makes
# 30,000 connections, tcpdump -nn printing the same port in the same run; CPU per second
# of load, and scaled to 10,000 connections/s.
# Memory: `synack --read big.pcap --speed 0` replays 20,000 connections (10,000 are
# retained, the default --max-connections); RSS from /proc/PID/status at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example make-big-pcap
cargo build --release --quiet
bin=$PWD/target/release/synack
sock=synack-bench-$$
trap 'tmux -L $sock kill-server 2>/dev/null || true' EXIT
tck=$(getconf CLK_TCK)

# The PID of what runs in a tmux pane (started with exec, so it is synack itself).
pid_of() { tmux -L "$sock" display -p -t "$1" '#{pane_pid}'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Idle CPU.
tmux -L "$sock" new-session -d -s idle -x 120 -y 40 "exec $bin --no-serve --port 18999"
sleep 2
pid=$(pid_of idle)
t0=$(ticks "$pid")
sleep 10
t1=$(ticks "$pid")
awk -v d=$((t1 - t0)) -v hz="$tck" 'BEGIN{ printf "idle dashboard: %.2f%% of one core over 10 s (%d ticks of %d/s)\n", d / hz / 10 * 100, d, hz }'
tmux -L "$sock" send-keys -t idle q
sleep 0.5

# Under load, beside tcpdump.
port=18998
# The echo server in a process of its own, so that the dashboard's CPU is its own.
"$bin" serve --addr 127.0.0.1:$port >/dev/null &
srv=$!
tmux -L "$sock" new-session -d -s load -x 200 -y 60 "exec $bin --port $port --no-serve --time-wait 1"
until tmux -L "$sock" capture-pane -p -t load | grep -q "waiting for connections"; do sleep 0.1; done
pid=$(pid_of load)
tcpdump -i lo -nn "tcp port $port" >/dev/null 2>&1 &
td=$!
sleep 1
d0=$(ticks "$pid") p0=$(ticks "$td") s0=$(date +%s.%N)
out=$("$bin" client --addr 127.0.0.1:$port --repeat 30000 --concurrency 2)
s1=$(date +%s.%N)
rate=$(echo "$out" | grep -o '([0-9]*/s)' | tr -dc 0-9)
# One more second, so that what the kernel still held is read and counted too.
sleep 1
d1=$(ticks "$pid") p1=$(ticks "$td")
kill -INT "$td"; wait "$td" 2>/dev/null || true
echo "load: $out"
echo "dashboard after the load: $(tmux -L "$sock" capture-pane -p -t load | head -1)"
# CPU seconds for the 30,000 connections, backlog included; at 10,000 conn/s a third
# of that is spent every second: the share of one core.
awk -v d=$((d1 - d0)) -v p=$((p1 - p0)) -v hz="$tck" -v s0="$s0" -v s1="$s1" -v r="$rate" 'BEGIN {
  dash = d / hz; dump = p / hz
  printf "30,000 connections at %d conn/s (%.1f s): dashboard %.2f CPU s, tcpdump -nn %.2f CPU s; dashboard / tcpdump: %.2fx\n", r, s1 - s0, dash, dump, dash / dump
  printf "  at 10,000 conn/s: dashboard %.1f%% of one core, tcpdump -nn %.1f%%\n", dash / 3 * 100, dump / 3 * 100
}'
tmux -L "$sock" send-keys -t load q
kill -INT "$srv"; wait "$srv" 2>/dev/null || true
sleep 0.5

# Memory with 10,000 retained connections.
big=target/bench/dash-20000.pcap
mkdir -p target/bench
[[ -f $big ]] || ./target/release/examples/make-big-pcap "$big" 20000
tmux -L "$sock" new-session -d -s mem -x 120 -y 40 "exec $bin --read $big --speed 0"
for _ in $(seq 300); do
  tmux -L "$sock" capture-pane -p -t mem | grep -q "REPLAY (end)" && break
  sleep 0.1
done
pid=$(pid_of mem)
screen=$(tmux -L "$sock" capture-pane -p -t mem | head -1)
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
echo "status line: $screen"
awk -v r="$rss" -v h="$hwm" 'BEGIN{ printf "10,000 retained connections: RSS %.1f MiB (peak %.1f MiB)\n", r / 1024, h / 1024 }'
tmux -L "$sock" send-keys -t mem q
