#!/usr/bin/env bash
# What watching costs the watched: `synack client` drives N seed connections at
# concurrency C against `synack serve` while each mode watches, and the client's
# rate is compared with its rate while nothing watches, measured in the same run.
# Modes, interleaved round by round (each round between two unobserved runs, its
# modes' shares taken against their mean; the order rotates from round to round):
#   trace-off   synack trace --kernel off
#   trace-on    synack trace --kernel on  (the kernel's view beside the wire's),
#               without the socket calls of other programs (SYNACK_CALLS=off)
#   trace-calls the same with the socket calls (docs/socket-calls.md): the load's
#               programs' connect/accept/send/recv/close worked out from tracepoints
#   dashboard   the dashboard, kernel view on (its default as root), in a
#               detached tmux session 200x50, without the socket calls
#   dashboard-calls  the same with the socket calls (not one of the defaults)
#   dashboard-off  the same, kernel view off: a copy of synack with only
#               CAP_NET_RAW (setcap), run as nobody (not one of the defaults)
#   tcpdump     tcpdump -nn printing text
#   tcpdump-w   tcpdump -w FILE -B 65536 --immediate-mode
# Reports, per mode: the client's rate as a share of the unobserved rate (mean,
# and each round's), the watcher's CPU (seconds per 100,000 connections, and
# share of a core while the load ran), kernel drops, kernel changes lost, and
# whether synack reconstructed every connection.
#
#   sudo scripts/bench-live.sh [CONNECTIONS] [CONCURRENCY] [ROUNDS]   (default 30000, 8, 3)
#   MODES="trace-on dashboard" ...   only these modes
#   BIN=path/to/synack ...           another build (default: this tree's release build)
#   BASE=path/to/synack MODES="trace-on trace-on@base" ...
#                                    a mode ending in @base runs the BASE build: two builds
#                                    compared in the same run
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-30000}
c=${2:-8}
rounds=${3:-3}
port=${PORT:-18555}
modes=(${MODES:-trace-off trace-on trace-calls dashboard tcpdump tcpdump-w})
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  bin=./target/release/synack
else
  bin=$BIN
fi
for m in "${modes[@]}"; do
  [[ $m == *@base ]] && [ -z "${BASE:-}" ] && { echo "mode $m needs BASE=path/to/synack" >&2; exit 2; }
  case ${m%@base} in
    trace-off | trace-on | trace-calls) ;;
    dashboard | dashboard-calls) command -v tmux >/dev/null || { echo "the dashboard mode needs tmux" >&2; exit 2; } ;;
    dashboard-off)
      for t in tmux setcap setpriv; do command -v $t >/dev/null || { echo "the $m mode needs $t" >&2; exit 2; }; done
      ;;
    tcpdump | tcpdump-w) command -v tcpdump >/dev/null || { echo "the $m mode needs tcpdump" >&2; exit 2; } ;;
    *) echo "unknown mode $m" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d)
session=synack-bench-$$
trap 'tmux kill-session -t $session 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept: $tmp" || rm -rf "$tmp"' EXIT

if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
  echo "port $port is in use: set PORT" >&2
  exit 2
fi
$bin serve --addr 127.0.0.1:$port >/dev/null &
until (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do sleep 0.05; done

rate() { grep -o '([0-9]*/s)' "$1" | tr -d '()/s'; }
secs() { grep -o 'in [0-9.]* s' "$1" | cut -d' ' -f2; }
# utime + stime of a process, in seconds.
cputime() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
per100k() { awk -v s="$1" -v n="$n" 'BEGIN{ printf "%.2f", s * 100000 / n }'; }
load() { $bin client --addr 127.0.0.1:$port --repeat "$n" --concurrency "$c" >"$1"; }

# One run of a mode: the client's rate into $tmp/rate.MODE.ROUND, a line of
# details into $tmp/note.MODE.ROUND.
run_mode() {
  local m=$1 r=$2 out=$tmp/client.$1.$2 note="" bin=$bin
  [[ $m == *@base ]] && bin=$BASE
  case ${m%@base} in
    none)
      load "$out"
      ;;
    trace-off | trace-on | trace-calls)
      local kernel=${m%@base} calls=off
      kernel=${kernel#trace-}
      [ "$kernel" = calls ] && kernel=on calls=on
      rm -f "$tmp/synack.err"
      SYNACK_CALLS=$calls /usr/bin/time -f "%U %S" -o "$tmp/synack.cpu" $bin trace --port $port --format jsonl --count "$n" --kernel "$kernel" \
        --duration $((n / 1000 + 30)) >"$tmp/synack.jsonl" 2>"$tmp/synack.err" &
      local tpid=$!
      until grep -q "capturing on" "$tmp/synack.err" 2>/dev/null; do sleep 0.05; done
      load "$out"
      wait $tpid
      local conns drops s_cpu
      conns=$(wc -l <"$tmp/synack.jsonl")
      drops=$(grep -o '[0-9]* dropped by the kernel' "$tmp/synack.err" | cut -d' ' -f1)
      s_cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/synack.cpu")
      note="CPU $(per100k "$s_cpu") s/100k conn; kernel drops $drops; reconstructed $conns/$n"
      if [ "$kernel" = on ]; then
        local agreed lost
        agreed=$(grep -o '"kernel_agreement":{"transitions":[0-9]*,"agreed":[0-9]*}' "$tmp/synack.jsonl" \
          | awk -F'[:,}]' '{ t += $3; a += $5 } END { printf "%d of %d", a, t }')
        lost=$(grep -o '[0-9]* lost by the kernel.s rings' "$tmp/synack.err" | cut -d' ' -f1)
        note="$note; kernel transitions agreed $agreed; lost $lost"
      fi
      ;;
    dashboard | dashboard-off | dashboard-calls)
      local run="env SYNACK_CALLS=off $bin"
      [ "${m%@base}" = dashboard-calls ] && run="env SYNACK_CALLS=on $bin"
      if [ "${m%@base}" = dashboard-off ]; then
        # Without CAP_PERFMON the kernel view is off; CAP_NET_RAW captures.
        chmod 755 "$tmp"
        cp "$bin" "$tmp/synack-net-raw"
        setcap cap_net_raw+ep "$tmp/synack-net-raw"
        run="setpriv --reuid=65534 --regid=65534 --clear-groups -- $tmp/synack-net-raw"
      fi
      tmux kill-session -t $session 2>/dev/null || true
      tmux new-session -d -s $session -x 200 -y 50 "exec $run --port $port --no-serve"
      local dpid
      dpid=$(tmux list-panes -t $session -F '#{pane_pid}')
      until tmux capture-pane -p -t $session | grep -q "LIVE lo"; do sleep 0.05; done
      local before after
      before=$(cputime "$dpid")
      load "$out"
      after=$(cputime "$dpid")
      # What the dashboard says once the load is over.
      sleep 1
      tmux capture-pane -p -t $session >"$tmp/screen"
      tmux send-keys -t $session q
      while kill -0 "$dpid" 2>/dev/null; do sleep 0.05; done
      local used conns lost drops behind
      used=$(awk -v a="$after" -v b="$before" 'BEGIN{ printf "%.2f", a - b }')
      conns=$(grep -o '[0-9]* connections' "$tmp/screen" | head -1 | cut -d' ' -f1)
      lost=$(grep -o 'kernel view: [0-9]* state changes lost' "$tmp/screen" | grep -o '[0-9]*' || echo 0)
      drops=$(grep -o 'kernel drops [0-9]*' "$tmp/screen" | head -1 | grep -o '[0-9]*' || echo "?")
      behind=$(grep -o '[0-9]* lost (view behind)' "$tmp/screen" | head -1 | cut -d' ' -f1 || true)
      note="CPU $(per100k "$used") s/100k conn, $(awk -v u="$used" -v s="$(secs "$out")" 'BEGIN{ printf "%.2f", u / s }') of a core; kernel drops $drops; lost by the view ${behind:-0}; connections shown $conns (kept at most 10000); kernel changes lost $lost"
      ;;
    tcpdump | tcpdump-w)
      local args=(-Z root -i lo -nn --immediate-mode)
      [ "${m%@base}" = tcpdump-w ] && args=(-Z root -i lo -B 65536 --immediate-mode -w "$tmp/td.pcap")
      rm -f "$tmp/td.err"
      /usr/bin/time -f "%U %S" -o "$tmp/td.cpu" tcpdump "${args[@]}" "tcp port $port" >/dev/null 2>"$tmp/td.err" &
      local pid=$!
      until grep -q "listening on" "$tmp/td.err" 2>/dev/null; do sleep 0.05; done
      load "$out"
      sleep 1
      # Stop our tcpdump only: the child of the time(1) started above, by its PID.
      kill -INT $(cat "/proc/$pid/task/$pid/children") 2>/dev/null || true
      wait $pid || true
      local captured dropped
      captured=$(grep -o '[0-9]* packets captured' "$tmp/td.err" | cut -d' ' -f1)
      dropped=$(grep -o '[0-9]* packets dropped by kernel' "$tmp/td.err" | cut -d' ' -f1)
      note="CPU $(per100k "$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/td.cpu")") s/100k conn; kernel drops $dropped; $captured packets captured"
      ;;
  esac
  rate "$out" >"$tmp/rate.$m.$r"
  echo "$note" >"$tmp/note.$m.$r"
}

echo "load: $n seed connections, concurrency $c, port $port; $rounds rounds of: ${modes[*]}"
load "$tmp/warm-up" # the first run after the server starts is slower: not counted
run_mode none 1
for ((r = 1; r <= rounds; r++)); do
  # Rotate the order: no mode always runs first after the unobserved run.
  k=${#modes[@]}
  for ((i = 0; i < k; i++)); do
    m=${modes[$(((i + r - 1) % k))]}
    run_mode "$m" "$r"
    printf '  round %d  %-15s %6s conn/s  %s\n' "$r" "$m" "$(cat "$tmp/rate.$m.$r")" "$(cat "$tmp/note.$m.$r")"
  done
  run_mode none $((r + 1))
  printf '  round %d  %-15s %6s conn/s (unobserved, after)\n' "$r" none "$(cat "$tmp/rate.none.$((r + 1))")"
done

echo
printf '%-15s %9s %8s %8s   %s\n' mode "conn/s" share median "share per round (against the mean of the unobserved runs around it)"
mean_none=$(cat "$tmp"/rate.none.* | awk '{ s += $1 } END { printf "%.0f", s / NR }')
printf '%-15s %9s %8s %8s   %s\n' none "$mean_none" "100 %" "" "$(cat "$tmp"/rate.none.* | tr '\n' ' ')conn/s"
for m in "${modes[@]}"; do
  shares=""
  for ((r = 1; r <= rounds; r++)); do
    shares+="$(awk -v x="$(cat "$tmp/rate.$m.$r")" -v a="$(cat "$tmp/rate.none.$r")" -v b="$(cat "$tmp/rate.none.$((r + 1))")" \
      'BEGIN{ printf "%.0f", 100 * x / ((a + b) / 2) }') "
  done
  mean_rate=$(cat "$tmp"/rate.$m.* | awk '{ s += $1 } END { printf "%.0f", s / NR }')
  printf '%-15s %9s %6s %% %6s %%   %s\n' "$m" "$mean_rate" \
    "$(echo "$shares" | awk '{ for (i = 1; i <= NF; i++) s += $i; printf "%.0f", s / NF }')" \
    "$(echo "$shares" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')" "$shares"
done
