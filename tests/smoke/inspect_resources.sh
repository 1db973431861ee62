#!/usr/bin/env bash
# rcmgr-inspect's resources view against a real node with scopes: node B
# holds 3 connections to node A, whose peer scope allows 4, so at 50 % and
# more only node B's connection counts show. $1 = the directory of the programs.
set -euo pipefail
bin=$1
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.log "$work"/*.txt; do echo "== $f"; cat "$f"; done; exit 1; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cat >"$work/a.json" <<'JSON'
{"scopes": {"System": {"Conns": 100, "ConnsInbound": 50, "ConnsOutbound": 50, "FD": 30,
                       "Streams": 10, "Memory": 1048576},
            "PeerDefault": {"Conns": 4, "ConnsInbound": 4, "ConnsOutbound": 4, "FD": 4}},
 "scopes_scale": {"memory_bytes": 1073741824, "fds": 1024}}
JSON
admin=$(free_port)
inspect=$(free_port)
"$bin/peer-node" --listen=127.0.0.1:0 --peer-id=node-A --config="$work/a.json" \
  --admin-port="$admin" --inspect-port="$inspect" --ready-file="$work/a.ready" \
  >"$work/a.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do
  [ -f "$work/a.ready" ] && break
  sleep 0.05
done
[ -f "$work/a.ready" ] || fail "node A did not come up within 10 s"
port=$(sed -n 's/^listen=//p' "$work/a.ready")
"$bin/peer-node" --peer-id=node-B --connect="127.0.0.1:$port" --connections=3 --send=0 \
  >"$work/b.log" 2>&1 &
pids+=($!)
# Wait (with a deadline) until node A has node B's 3 connections established.
python3 - "http://127.0.0.1:$admin/state" <<'PY' || fail "node A never held 3 connections"
import json, sys, time, urllib.request
deadline = time.time() + 20
while time.time() < deadline:
    state = json.loads(urllib.request.urlopen(sys.argv[1], timeout=5).read())
    if state["connections"]["established"]["inbound"] == 3:
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
"$bin/rcmgr-inspect" resources --min-used-percent=50 "127.0.0.1:$inspect" >"$work/close.txt" ||
  fail "rcmgr-inspect resources --min-used-percent=50"
cat >"$work/want.txt" <<'TXT'
== 127.0.0.1:PORT ==
scope        limit name     limit  usage  percent
peer:node-B  conns              4      3    75.0%
peer:node-B  conns_inbound      4      3    75.0%
peer:node-B  fd                 4      3    75.0%
TXT
sed -i "s/PORT/$inspect/" "$work/want.txt"
diff "$work/want.txt" "$work/close.txt" >"$work/diff.txt" || fail "the table differs"
"$bin/rcmgr-inspect" resources --json "127.0.0.1:$inspect" >"$work/all.json" ||
  fail "rcmgr-inspect resources --json"
python3 - "$work/all.json" <<'PY' || fail "the JSON rows"
import json, sys
(endpoint, rows), = json.load(open(sys.argv[1])).items()
by = {(r["scope"], r["limit_name"]): r for r in rows}
assert by[("system", "conns_inbound")] == {"scope": "system", "limit_name": "conns_inbound",
    "limit": 50, "usage": 3, "percent": 6.0}, by[("system", "conns_inbound")]
assert by[("system", "fd")]["usage"] == 3 and by[("system", "fd")]["limit"] == 30
assert by[("system", "memory")]["limit"] == 1048576
assert by[("transient", "conns")]["usage"] == 0
assert len(rows) % 8 == 0, len(rows)
PY
"$bin/rcmgr-inspect" resources --min-used-percent=101 "127.0.0.1:$inspect" >/dev/null 2>&1 &&
  fail "--min-used-percent=101 was accepted"
echo "inspect resources: node B's 3 of 4 connections at 75 %"
