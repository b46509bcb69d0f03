#!/usr/bin/env bash
# The dashboard's idle CPU and its memory with 10,000 retained connections,
# measured on the real binary in a tmux terminal (as a person would run it).
#
#   sudo scripts/bench-dashboard.sh
#
# Idle: `synack --no-serve` captures a quiet port for 10 s; CPU from /proc/PID/stat.
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

pid_of() { pgrep -n -f "$1"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Idle CPU.
tmux -L "$sock" new-session -d -s idle -x 120 -y 40 "$bin --no-serve --port 18999"
sleep 2
pid=$(pid_of "$bin --no-serve --port 18999")
t0=$(ticks "$pid")
sleep 10
t1=$(ticks "$pid")
awk -v d=$((t1 - t0)) -v hz="$tck" 'BEGIN{ printf "idle dashboard: %.2f%% of one core over 10 s (%d ticks of %d/s)\n", d / hz / 10 * 100, d, hz }'
tmux -L "$sock" send-keys -t idle q
sleep 0.5

# Memory with 10,000 retained connections.
big=target/bench/dash-20000.pcap
mkdir -p target/bench
[[ -f $big ]] || ./target/release/examples/make-big-pcap "$big" 20000
tmux -L "$sock" new-session -d -s mem -x 120 -y 40 "$bin --read $big --speed 0"
for _ in $(seq 300); do
  tmux -L "$sock" capture-pane -p -t mem | grep -q "REPLAY (end)" && break
  sleep 0.1
done
pid=$(pid_of "$bin --read $big")
screen=$(tmux -L "$sock" capture-pane -p -t mem | head -1)
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
echo "status line: $screen"
awk -v r="$rss" -v h="$hwm" 'BEGIN{ printf "10,000 retained connections: RSS %.1f MiB (peak %.1f MiB)\n", r / 1024, h / 1024 }'
tmux -L "$sock" send-keys -t mem q
