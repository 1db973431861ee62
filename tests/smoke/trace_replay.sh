#!/usr/bin/env bash
# The decision trace (docs/trace.md). 1. rcmgr-replay --expect on the
# hand-written traces in tests/trace/: a right one exits 0, a wrong one exits 1
# and names the line that differs. 2. A round trip: a real peer-node with
# --trace, limits that bite and go's scopes scaled to this machine, node B's mixed
# traffic, a clean stop on SIGTERM; the trace holds the denials node B saw, and
# replays with no difference. $1 = the directory of the programs.
set -euo pipefail
bin=$1
cases=$(cd "$(dirname "$0")/../trace" && pwd)
work=$(mktemp -d)
a_pid=
cleanup() {
  [ -n "$a_pid" ] && kill "$a_pid" 2>/dev/null || true
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -n 40 "$work"/*.log "$work"/*.err 2>/dev/null; exit 1; }

# -- 1. hand-written traces ---------------------------------------------------
"$bin/rcmgr-replay" --expect <"$cases/small.ndjson" >"$work/small.out" 2>"$work/small.err" ||
  fail "small.ndjson: exit code $? (want 0)"
[ ! -s "$work/small.out" ] || fail "small.ndjson: differences: $(cat "$work/small.out")"
grep -qx "rcmgr-replay: $(wc -l <"$cases/small.ndjson") lines, 13 checked, 0 differ" \
  "$work/small.err" || fail "small.ndjson summary: $(cat "$work/small.err")"
code=0
"$bin/rcmgr-replay" --expect <"$cases/small_wrong.ndjson" >"$work/wrong.out" \
  2>"$work/wrong.err" || code=$?
[ "$code" = 1 ] || fail "small_wrong.ndjson: exit code $code (want 1)"
diff -u "$cases/small_wrong.expected" "$work/wrong.out" || fail "small_wrong.ndjson differences"
grep -qx "rcmgr-replay: $(wc -l <"$cases/small_wrong.ndjson") lines, 13 checked, 1 differ" \
  "$work/wrong.err" || fail "small_wrong.ndjson summary: $(cat "$work/wrong.err")"

# -- 2. a real node's trace ---------------------------------------------------
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cat >"$work/a.json" <<'JSON'
{"connection_limits": {"max_established_inbound": 2}, "scopes": {},
 "rate_limits": {"/echo/1": {"per_peer": {"rate_per_s": 0.001, "burst": 2}}}}
JSON
"$bin/peer-node" --listen=127.0.0.1:0 --peer-id=node-A --config="$work/a.json" \
  --trace="$work/a.trace" --ready-file="$work/a.ready" >"$work/a.log" 2>&1 &
a_pid=$!
deadline=$((SECONDS + 20))
until [ -f "$work/a.ready" ]; do
  kill -0 "$a_pid" 2>/dev/null || fail "node A died"
  [ $SECONDS -lt $deadline ] || fail "node A did not come up within 20 s"
  sleep 0.05
done
port=$(sed -n 's/^listen=//p' "$work/a.ready")
# The trace is written at least every second: the first flush (the config line
# and a memory sample or more) comes before node B's traffic.
deadline=$((SECONDS + 10))
until [ "$(wc -l <"$work/a.trace" 2>/dev/null || echo 0)" -ge 2 ]; do
  [ $SECONDS -lt $deadline ] || fail "no trace lines written within 10 s"
  sleep 0.05
done
# 4 connections against a limit of 2: 2 refused; 3 messages on each of the
# 2 others, 6 from one peer against a per-peer burst of 2: 4 refused.
"$bin/peer-node" --peer-id=node-B --connect="127.0.0.1:$port" --connections=4 --send=3 \
  --exit-when-done >"$work/b.log" 2>&1 || fail "node B"
kill -TERM "$a_pid"
deadline=$((SECONDS + 30))
while kill -0 "$a_pid" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "node A did not stop within 30 s of SIGTERM"
  sleep 0.05
done
code=0
wait "$a_pid" || code=$?
a_pid=
[ "$code" = 0 ] || fail "node A exited with $code"
trace="$work/a.trace"
[ -s "$trace" ] || fail "no trace written"
head -n 1 "$trace" | grep -q '^{"t":0,"t_ns":0,"event":"config","config":{' ||
  fail "the first line is not the config: $(head -n 1 "$trace")"
# "scopes_scale" is "auto" (this machine): the trace has the scale it gave.
head -n 1 "$trace" | grep -q '"scopes_scale":{"fds":[0-9]*,"memory_bytes":[0-9]*}' ||
  fail "the config line has no explicit scopes_scale: $(head -c 600 "$trace")"
denials=$(grep -c '"verdict":"deny"' "$trace" || true)
conn_denials=$(grep -c '"code":"connection_limit","conn":[0-9]*,"current":2,"kind":"established_inbound"' "$trace" || true)
rate_denials=$(grep -c '"event":"protocol_message".*"code":"rate_limit"' "$trace" || true)
[ "$denials" = 6 ] && [ "$conn_denials" = 2 ] && [ "$rate_denials" = 4 ] ||
  fail "denials in the trace: $denials (connection_limit $conn_denials, rate_limit $rate_denials), want 6 (2, 4)"
allowed=$(grep -c '"event":"protocol_message".*"verdict":"allow"' "$trace" || true)
[ "$allowed" = 2 ] || fail "allowed protocol messages in the trace: $allowed, want 2"
"$bin/rcmgr-replay" --expect <"$trace" >"$work/replay.out" 2>"$work/replay.err" ||
  fail "replaying node A's trace: $(head -c 2000 "$work/replay.out")"
[ ! -s "$work/replay.out" ] || fail "replay differences: $(head -c 2000 "$work/replay.out")"
lines=$(wc -l <"$trace")
grep -qx "rcmgr-replay: $lines lines, $lines checked, 0 differ" "$work/replay.err" ||
  fail "replay summary: $(cat "$work/replay.err")"
echo "PASS: trace of $lines lines, 6 denials, replayed with no difference"
