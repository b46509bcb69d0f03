#!/usr/bin/env bash
# synack's `zeek` object against Zeek's own conn.log: for one capture and the
# conn.log Zeek wrote for it (`zeek -C -r CAPTURE`, tab-separated, with its
# #fields header), joins the TCP connections by their 4-tuple and start time
# (within 1 ms) and prints each one whose conn_state or history differs, then
# how many agree of those joined, and the connections either side lacks.
#
#   zeek -C -r trace.pcap && scripts/compare-zeek.sh trace.pcap conn.log
set -euo pipefail
synack=${SYNACK:-target/release/synack}
[ $# -eq 2 ] || { echo "usage: $0 CAPTURE CONN_LOG" >&2; exit 2; }
[ -x "$synack" ] || { echo "build first: cargo build --release" >&2; exit 2; }
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 2; }
"$synack" trace --read "$1" --format jsonl 2>/dev/null | python3 -c '
import json, sys

def endpoint(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)

ours = {}
for line in sys.stdin:
    c = json.loads(line)
    if c.get("proto", "tcp") != "tcp" or "zeek" not in c:
        continue
    first = c["segments"][0]["dir"] if c["segments"] else "c2s"
    orig, resp = (c["client"], c["server"]) if first == "c2s" else (c["server"], c["client"])
    key = endpoint(orig) + endpoint(resp)
    ours.setdefault(key, []).append((c["start_unix"], c["zeek"], c["id"]))

fields, theirs = None, []
with open(sys.argv[1]) as log:
    for line in log:
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#") and fields:
            row = dict(zip(fields, line.split("\t")))
            if row.get("proto") == "tcp":
                theirs.append(row)
if fields is None:
    sys.exit("no #fields line: give the tab-separated conn.log Zeek writes")

joined = state_ok = history_ok = missing = 0
for row in theirs:
    key = (row["id.orig_h"], int(row["id.orig_p"]), row["id.resp_h"], int(row["id.resp_p"]))
    found = [o for o in ours.get(key, []) if abs(o[0] - float(row["ts"])) < 0.001]
    if not found:
        missing += 1
        continue
    start, z, cid = found[0]
    ours[key].remove(found[0])
    joined += 1
    history = row.get("history", "-")
    history = "" if history == "-" else history
    state_ok += z["conn_state"] == row["conn_state"]
    history_ok += z["history"] == history
    if z["conn_state"] != row["conn_state"] or z["history"] != history:
        ours_said = (z["conn_state"], z["history"])
        theirs_said = (row["conn_state"], history)
        print(f"#{cid} {key}: synack {ours_said}, zeek {theirs_said}")
extra = sum(len(v) for v in ours.values())
print(f"joined {joined} connections: conn_state agrees on {state_ok}, history on {history_ok}")
print(f"in the conn.log only: {missing}; in synack only: {extra}")
' "$2"
