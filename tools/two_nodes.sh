#!/usr/bin/env bash
# Starts node A on loopback with tight limits, lets node B open more
# connections and send more /echo/1 messages than A allows, then prints the
# refusals, A's state over the middleman (rcmgr-inspect) and over HTTP, and
# both nodes' final state dumps. Used by `tools/dev demo` and the smoke test.
#   tools/two_nodes.sh BIN_DIR WORK_DIR
set -euo pipefail
bin=$1 work=$2
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cat >"$work/a.json" <<'JSON'
{"connection_limits": {"max_established_inbound": 3, "max_established_per_peer": 8},
 "rate_limits": {"/echo/1": {"per_peer": {"rate_per_s": 0.001, "burst": 5}}}}
JSON
admin=$(free_port)
inspect=$(free_port)
"$bin/peer-node" --listen=127.0.0.1:0 --peer-id=node-A --config="$work/a.json" \
  --admin-port="$admin" --inspect-port="$inspect" --ready-file="$work/a.ready" \
  >"$work/a.log" 2>&1 &
a_pid=$!
trap 'kill "$a_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  [ -f "$work/a.ready" ] && break
  kill -0 "$a_pid" 2>/dev/null || { cat "$work/a.log"; echo "node A died" >&2; exit 1; }
  sleep 0.05
done
[ -f "$work/a.ready" ] || { echo "node A did not come up within 10 s" >&2; exit 1; }
port=$(sed -n 's/^listen=//p' "$work/a.ready")
echo "== node-A listens on 127.0.0.1:$port (max_established_inbound 3, /echo/1 per peer: burst 5)"
echo "== node-B dials node-A 5 times and sends 8 /echo/1 messages on each connection"
"$bin/peer-node" --peer-id=node-B --connect="127.0.0.1:$port" --connections=5 --send=8 \
  --exit-when-done | tee "$work/b.log"
echo "== rcmgr-inspect 127.0.0.1:$inspect"
"$bin/rcmgr-inspect" "127.0.0.1:$inspect" | tee "$work/inspect.txt"
"$bin/rcmgr-inspect" --json "127.0.0.1:$inspect" >"$work/inspect.json"
echo "== GET http://127.0.0.1:$admin/state (first 300 bytes)"
python3 -c 'import sys, urllib.request; body = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(); open(sys.argv[2], "w").write(body); print(body[:300])' \
  "http://127.0.0.1:$admin/state" "$work/http.txt"
kill -TERM "$a_pid"
wait "$a_pid" || true
trap - EXIT
echo "== node-A's log"
cat "$work/a.log"
