#!/usr/bin/env bash
# Two real peer-node processes on loopback: the refusals and the dumps are
# exactly what node A's limits say. $1 = the directory of the programs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$here/../../tools/two_nodes.sh" "$1" "$work" >"$work/out.txt" 2>&1 || {
  cat "$work/out.txt"; exit 1; }
fail() { echo "FAIL: $*"; cat "$work/out.txt"; exit 1; }
refused=$(grep -c 'refused by the remote: {"code":"connection_limit".*"kind":"established_inbound","limit":3' "$work/b.log" || true)
[ "$refused" -eq 2 ] || fail "expected 2 connection refusals, got $refused"
connected=$(grep -c '^connected to node-A' "$work/b.log" || true)
[ "$connected" -eq 3 ] || fail "expected 3 connections, got $connected"
rejects=$(grep -c '^REJECT from node-A .*"code":"rate_limit"' "$work/b.log" || true)
[ "$rejects" -eq 19 ] || fail "expected 19 rate-limit REJECTs (24 sent, burst 5), got $rejects"
python3 - "$work/inspect.json" <<'PY' || fail "inspect JSON"
import json, sys
doc = json.load(open(sys.argv[1]))
(endpoint, state), = doc.items()
assert state["schema"] == 1, state
assert state["limits"]["denials"]["connection_limit"]["by_kind"]["established_inbound"] == 2
rl = state["rate_limits"]["protocols"]["/echo/1"]
assert rl["allowed"] == 5 and rl["denied"]["per_peer"] == 19, rl
assert state["missing"] == [], state["missing"]
PY
grep -q '"schema":1' "$work/http.txt" || fail "GET /state"
grep -q 'node-A final state: {' "$work/a.log" || fail "node A's final dump"
echo "two nodes: 3 connected, 2 refused, 5 echoed, 19 rate-limited"
