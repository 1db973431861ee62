#!/usr/bin/env bash
# GET /metrics on a real peer-node: `promtool check metrics` finds no problem
# in the text, and its counters hold what GET /state says after node B's
# refused connections. $1 = the directory of the programs.
set -euo pipefail
bin=$1
command -v promtool >/dev/null || {
  echo "FAIL: promtool not found (tools/dev test installs the Debian package prometheus)"
  exit 1
}
work=$(mktemp -d)
a_pid=
cleanup() {
  [ -n "$a_pid" ] && kill "$a_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$work/a.log" "$work/b.log" 2>/dev/null | tail -n 40; exit 1; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cat >"$work/a.json" <<'JSON'
{"connection_limits": {"max_established_inbound": 2},
 "scopes": {}, "scopes_scale": {"memory_bytes": 1073741824, "fds": 512},
 "rate_limits": {"/echo/1": {"per_peer": {"rate_per_s": 0.001, "burst": 2}}}}
JSON
admin=$(free_port)
"$bin/peer-node" --listen=127.0.0.1:0 --peer-id=node-A --config="$work/a.json" \
  --admin-port="$admin" --ready-file="$work/a.ready" >"$work/a.log" 2>&1 &
a_pid=$!
deadline=$((SECONDS + 10))
until [ -f "$work/a.ready" ]; do
  kill -0 "$a_pid" 2>/dev/null || fail "node A died"
  [ $SECONDS -lt $deadline ] || fail "node A did not come up within 10 s"
  sleep 0.05
done
port=$(sed -n 's/^listen=//p' "$work/a.ready")
# 4 connections against a limit of 2: 2 refused; 3 messages on each of the
# 2 others, 6 from one peer against a per-peer burst of 2: 4 refused.
"$bin/peer-node" --peer-id=node-B --connect="127.0.0.1:$port" --connections=4 --send=3 \
  --exit-when-done >"$work/b.log" 2>&1 || fail "node B"
get() { # URL FILE: the body to FILE, the Content-Type on stdout
  python3 -c 'import sys, urllib.request
r = urllib.request.urlopen(sys.argv[1], timeout=5)
open(sys.argv[2], "wb").write(r.read())
print(r.headers.get("Content-Type"))' "$1" "$2"
}
type=$(get "http://127.0.0.1:$admin/metrics" "$work/metrics.txt") || fail "GET /metrics"
[ "$type" = "text/plain; version=0.0.4" ] || fail "Content-Type: $type"
get "http://127.0.0.1:$admin/state" "$work/state.json" >/dev/null || fail "GET /state"
get "http://127.0.0.1:$admin/config" "$work/config.json" >/dev/null || fail "GET /config"
if ! promtool check metrics <"$work/metrics.txt" >"$work/promtool.txt" 2>&1 ||
  [ -s "$work/promtool.txt" ]; then
  cat "$work/promtool.txt"
  fail "promtool check metrics"
fi
# The counters do not move once node B is done: both reads agree exactly.
python3 - "$work/metrics.txt" "$work/state.json" <<'PY' || fail "metrics against the state"
import json, sys
samples = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    key, value = line.rsplit(" ", 1)
    samples[key] = value.strip()
state = json.load(open(sys.argv[2]))
def expect(key, value):
    assert samples.get(key) == str(value), (key, samples.get(key), value)
kinds = state["limits"]["denials"]["connection_limit"]["by_kind"]
assert kinds == {"established_inbound": 2}, kinds
expect('rcmgr_denials_total{code="connection_limit",kind="established_inbound"}', 2)
rule = state["rate_limits"]["protocols"]["/echo/1"]
assert rule["allowed"] == 2 and rule["denied"]["per_peer"] == 4, rule
expect('rcmgr_rate_limit_allowed_total{protocol="/echo/1"}', 2)
expect('rcmgr_rate_limit_denied_total{protocol="/echo/1",scope="per_peer"}', 4)
system = state["scopes"]["system"]["limits"]
expect('libp2p_rcmgr_limit{scope="system",resource="conns_inbound"}', system["conns_inbound"])
expect('libp2p_rcmgr_limit{scope="transient",resource="memory"}',
       state["scopes"]["transient"]["limits"]["memory"])
for family in ("libp2p_rcmgr_peer_connections", "libp2p_rcmgr_previous_peer_connections",
               "libp2p_rcmgr_conn_memory", "libp2p_rcmgr_blocked_resources"):
    assert any(l.startswith("# TYPE " + family + " ") for l in open(sys.argv[1])), family
PY
# GET /config: the config in force and the resolved scope limits, the same
# document as node A's start-up line.
python3 - "$work/config.json" "$work/state.json" "$work/a.log" <<'PY' || fail "GET /config"
import json, sys
doc = json.load(open(sys.argv[1]))
state = json.load(open(sys.argv[2]))
config = doc["config"]
assert config["connection_limits"] == {"max_established_inbound": 2}, config
assert config["memory"]["sample_interval_ms"] == 100, config["memory"]
assert config["watcher"]["idle_timeout_ms"] == 60000, config["watcher"]
assert config["rate_limits"]["/echo/1"]["per_peer"] == {"rate_per_s": 0.001, "burst": 2}
limits = doc["scope_limits"]
for scope in ("system", "transient", "allowlisted_system", "allowlisted_transient"):
    assert limits[scope] == state["scopes"][scope]["limits"], scope
for scope in ("peer", "protocol", "protocol_peer", "service", "service_peer", "conn", "stream"):
    assert limits[scope] == state["scopes"]["class_limits"][scope], scope
lines = [l for l in open(sys.argv[3]) if l.startswith('{"effective_config":')]
assert len(lines) == 1, lines
assert json.loads(lines[0]) == {"effective_config": doc}, lines[0]
PY
echo "metrics: promtool finds no problem; denials and rate limits agree with /state;" \
  "/config and the start-up line agree"
