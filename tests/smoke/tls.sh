#!/usr/bin/env bash
# Fleet control behind TLS with client certificates: three nodes whose inspect
# port trusts CA1 (readers) and whose control port trusts CA2 (operators).
# Refused: no certificate, a certificate of another CA, an expired one, a
# reader's on the control port, plain TCP (and the node still answers after
# it); start-up without TLS on a non-loopback address. Accepted: a reader's
# read, an operator's --apply on three nodes at once; a rejected config names
# its JSON path and changes nothing. Then each node stops on SIGTERM and exits
# 0. $1 = the directory of the programs.
set -euo pipefail
bin=$1
command -v openssl >/dev/null || {
  echo "FAIL: the openssl CLI is not installed (tools/dev test installs it)"
  exit 1
}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log "$work"/*.txt; do [ -f "$f" ] && { echo "== $f"; tail -n 30 "$f"; }; done
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- certificates -------------------------------------------------------------
cd "$work"
make_ca() { openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" \
  -days 2 -subj "/CN=test $1" 2>/dev/null; }
make_csr() { openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" \
  -subj "/CN=$1" 2>/dev/null; }
sign() { # NAME CA
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
    -out "$1.pem" -days 2 2>/dev/null
}
for ca in ca1 ca2 ca3; do make_ca $ca; done
make_csr node && sign node ca1         # the nodes' certificate
make_csr reader && sign reader ca1     # may read (inspect port, HTTPS)
make_csr operator && sign operator ca2 # may control (control port)
make_csr stranger && sign stranger ca3 # trusted by no node
make_csr expired                       # from CA1, but valid only in 2020
mkdir ca_db && : >ca_db/index.txt && echo 01 >ca_db/serial
cat >ca.cnf <<'CNF'
[ca]
default_ca = test_ca
[test_ca]
database = ca_db/index.txt
new_certs_dir = ca_db
serial = ca_db/serial
default_md = sha256
policy = any_name
[any_name]
commonName = supplied
CNF
openssl ca -batch -config ca.cnf -cert ca1.pem -keyfile ca1.key -in expired.csr \
  -out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -notext \
  >/dev/null 2>&1 || fail "openssl ca for the expired certificate"
openssl verify -CAfile ca1.pem expired.pem >/dev/null 2>&1 && fail "expired.pem verifies"
cd - >/dev/null

tls_node=(--tls-cert="$work/node.pem" --tls-key="$work/node.key" --tls-ca="$work/ca1.pem"
  --control-ca="$work/ca2.pem")
as() { # WHO: rcmgr-inspect's TLS flags for that certificate
  echo "--tls-cert=$work/$1.pem" "--tls-key=$work/$1.key" "--tls-ca=$work/ca1.pem"
}
inspect() { timeout 20 "$bin/rcmgr-inspect" --timeout-ms=5000 "$@"; }

wait_ready() { # NAME PID
  local deadline=$((SECONDS + 15))
  until [ -f "$work/$1.ready" ]; do
    kill -0 "$2" 2>/dev/null || fail "node $1 died"
    [ $SECONDS -lt $deadline ] || fail "node $1 did not come up within 15 s"
    sleep 0.05
  done
}

# --- start-up checks ------------------------------------------------------------
port=$(free_port)
set +e
timeout 20 "$bin/peer-node" --bind=0.0.0.0 --inspect-port="$port" >"$work/open.log" 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "--bind=0.0.0.0 --inspect-port without TLS: exit $rc, want 2"
grep -q "^peer-node: refusing to serve the admin, inspect or control endpoint on '0.0.0.0' without TLS" \
  "$work/open.log" || fail "no clear refusal on stderr"
for flag in --admin-port --control-port; do
  set +e
  timeout 20 "$bin/peer-node" --bind=0.0.0.0 "$flag=$port" >"$work/open2.log" 2>&1
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "--bind=0.0.0.0 $flag without TLS: exit $rc, want 2"
done
set +e
timeout 20 "$bin/peer-node" --inspect-port="$port" --tls-cert="$work/missing.pem" \
  --tls-key="$work/node.key" --tls-ca="$work/ca1.pem" >"$work/missing.log" 2>&1
rc=$?
timeout 20 "$bin/peer-node" --inspect-port="$port" --tls-cert="$work/node.pem" \
  --tls-key="$work/reader.key" --tls-ca="$work/ca1.pem" >"$work/mismatch.log" 2>&1
rc2=$?
timeout 20 "$bin/peer-node" --inspect-port="$port" --tls-cert="$work/node.pem" \
  >"$work/partial.log" 2>&1
rc3=$?
set -e
[ $rc -eq 2 ] && grep -q "^peer-node: cannot load --tls-cert '$work/missing.pem'" \
  "$work/missing.log" || fail "a missing certificate file: exit $rc"
[ $rc2 -eq 2 ] && grep -q "^peer-node: cannot load --tls-key '$work/reader.key': .*key values mismatch" \
  "$work/mismatch.log" || fail "a key of another certificate: exit $rc2"
[ $rc3 -eq 2 ] && grep -q "^peer-node: TLS needs all of --tls-cert, --tls-key and --tls-ca" \
  "$work/partial.log" || fail "--tls-cert alone: exit $rc3"
rm -f "$work"/{open,open2,missing,mismatch,partial}.log

"$bin/peer-node" --bind=0.0.0.0 --inspect-port="$port" --insecure-remote \
  --peer-id=insecure --ready-file="$work/insecure.ready" >"$work/insecure.log" 2>&1 &
insecure_pid=$!
pids+=($insecure_pid)
wait_ready insecure $insecure_pid
grep -q "^peer-node: WARNING: --insecure-remote: the endpoints on '0.0.0.0' have no TLS" \
  "$work/insecure.log" || fail "no warning with --insecure-remote"
[ "$(sed -n 's/^inspect=//p' "$work/insecure.ready")" = "$port" ] || fail "insecure inspect port"
# A TLS client against that plain port: unreachable within the timeout, no hang.
set +e
timeout 20 "$bin/rcmgr-inspect" --timeout-ms=3000 --tls-cert="$work/reader.pem" \
  --tls-key="$work/reader.key" --tls-ca="$work/ca1.pem" "127.0.0.1:$port" \
  >"$work/plain.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] && sed -n 2p "$work/plain.txt" | grep -q "^error        unreachable: " ||
  fail "TLS against a plain port: exit $rc"
kill $insecure_pid
deadline=$((SECONDS + 15))
while kill -0 $insecure_pid 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the insecure node did not stop within 15 s"
  sleep 0.05
done
wait $insecure_pid || fail "the insecure node did not stop cleanly"
rm -f "$work/insecure.log"

# --- three nodes with TLS ---------------------------------------------------------
declare -A ins ctl node_pid
for n in a b c; do
  ins[$n]=$(free_port)
  ctl[$n]=$(free_port)
  extra=()
  [ $n = a ] && extra=(--admin-port="$(free_port)")
  "$bin/peer-node" --peer-id="node-$n" --listen=127.0.0.1:0 --inspect-port="${ins[$n]}" \
    --control-port="${ctl[$n]}" "${tls_node[@]}" "${extra[@]}" \
    --ready-file="$work/$n.ready" >"$work/$n.log" 2>&1 &
  pids+=($!)
  node_pid[$n]=$!
  wait_ready $n $!
done
admin=$(sed -n 's/^admin=//p' "$work/a.ready")
A=127.0.0.1:${ins[a]}

limits_of() { # ENDPOINT: the node's limits config as one JSON line, read as a reader
  inspect --json $(as reader) "$1" >"$work/read.json" || return 1
  python3 -c 'import json, sys
(ep, d), = json.load(open(sys.argv[1])).items()
print(json.dumps(d["limits"]["config"], sort_keys=True))' "$work/read.json"
}
before=$(limits_of "$A") || fail "a reader's read of node A"
echo "$before" | grep -q '"max_pending_inbound": 64' || fail "node A's limits: $before"

# A reader reads: the table, exit 0.
inspect $(as reader) "$A" >"$work/reader.txt" || fail "a reader's table"
head -n 1 "$work/reader.txt" | grep -qx "== $A ==" || fail "the reader's table"

# No certificate (plain CAF), another CA's, an expired one: nothing.
refused() { # WHAT ENDPOINT FLAGS...: rcmgr-inspect reads nothing and says why
  local what=$1 ep=$2
  shift 2
  set +e
  inspect "$@" "$ep" >"$work/refused.txt" 2>&1
  local rc=$?
  set -e
  [ $rc -eq 1 ] || fail "$what: exit $rc, want 1"
  [ "$(head -n 1 "$work/refused.txt")" = "== $ep ==" ] || fail "$what: output"
  sed -n 2p "$work/refused.txt" | grep -q "^error        unreachable: " ||
    fail "$what: $(cat "$work/refused.txt")"
  [ "$(wc -l <"$work/refused.txt")" -eq 2 ] || fail "$what: more than the error"
}
refused "no certificate" "$A"
refused "a certificate of CA3" "$A" $(as stranger)
refused "an expired certificate" "$A" $(as expired)
refused "an operator's certificate on the inspect port" "$A" $(as operator)

# A TLS client with no certificate gets no byte of CAF's handshake; the
# reader's certificate does (the probe can tell them apart).
probe() { # PORT [CERT]: "data" if the node sent anything after the handshake
  timeout 20 python3 - "$work" "$@" <<'PY'
import socket, ssl, sys
work, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(work + "/ca1.pem")
if len(sys.argv) > 3:
    ctx.load_cert_chain(work + "/" + sys.argv[3] + ".pem", work + "/" + sys.argv[3] + ".key")
try:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw) as s:
            print("data" if s.recv(1) else "closed")
except (ssl.SSLError, OSError) as e:
    print("refused")
PY
}
[ "$(probe "${ins[a]}")" = "refused" ] || fail "a TLS client without certificate"
[ "$(probe "${ins[a]}" reader)" = "data" ] || fail "the probe with a reader's certificate"
[ "$(probe "${ctl[a]}" reader)" = "refused" ] || fail "a reader's TLS on the control port"
[ "$(probe "${ctl[a]}" operator)" = "data" ] || fail "an operator's TLS on the control port"

# A reader's certificate cannot control: not on the control port (TLS
# refuses it), not on the inspect port (it takes no control messages).
cat >"$work/tight.json" <<'JSON'
{"connection_limits": {"max_pending_inbound": 7, "max_pending_outbound": 8,
  "max_established_inbound": 9, "max_established_outbound": 10,
  "max_established_per_peer": 2, "max_established_total": 11}}
JSON
set +e
inspect --apply="$work/tight.json" $(as reader) "127.0.0.1:${ctl[a]}" "$A" \
  >"$work/reader_apply.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "a reader's --apply: exit $rc, want 1"
sed -n 1p "$work/reader_apply.txt" | grep -q "^127.0.0.1:${ctl[a]}: unreachable: " ||
  fail "a reader's --apply on the control port"
[ "$(sed -n 2p "$work/reader_apply.txt")" = \
  "$A: unreachable: the endpoint takes no control messages (an inspect port?)" ] ||
  fail "a reader's --apply on the inspect port"
[ "$(limits_of "$A")" = "$before" ] || fail "node A's limits changed: $(limits_of "$A")"

# Plain TCP against the TLS ports: garbage, and a connection left open; the
# node still answers a reader afterwards.
for p in "${ins[a]}" "${ctl[a]}"; do
  timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p; echo garbage >&3; cat <&3 >/dev/null" 2>/dev/null || true
done
exec 4<>"/dev/tcp/127.0.0.1/${ins[a]}"
[ "$(limits_of "$A")" = "$before" ] || fail "node A after plain TCP"
exec 4<&-

# An operator applies to three nodes at once; the new limits show on each.
set +e
inspect --apply="$work/tight.json" $(as operator) "127.0.0.1:${ctl[a]}" \
  "127.0.0.1:${ctl[b]}" "127.0.0.1:${ctl[c]}" >"$work/apply.txt" 2>&1
rc=$?
set -e
printf '%s\n' "127.0.0.1:${ctl[a]}: applied" "127.0.0.1:${ctl[b]}: applied" \
  "127.0.0.1:${ctl[c]}: applied" >"$work/want.txt"
diff "$work/want.txt" "$work/apply.txt" >"$work/diff.txt" || fail "--apply on three nodes"
[ $rc -eq 0 ] || fail "--apply on three nodes: exit $rc"
want='{"max_established_inbound": 9, "max_established_outbound": 10, "max_established_per_peer": 2, "max_established_total": 11, "max_pending_inbound": 7, "max_pending_outbound": 8}'
for n in a b c; do
  got=$(limits_of "127.0.0.1:${ins[$n]}") || fail "read node $n"
  [ "$got" = "$want" ] || fail "node $n's limits: $got"
done

# A rejected config names its JSON path and changes nothing.
cat >"$work/bad.json" <<'JSON'
{"connection_limits": {"max_pending_inbound": -1}}
JSON
set +e
inspect --apply="$work/bad.json" $(as operator) "127.0.0.1:${ctl[a]}" >"$work/bad.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "a rejected config: exit $rc, want 1"
grep -q "^127.0.0.1:${ctl[a]}: rejected: invalid config: .*/connection_limits/max_pending_inbound" \
  "$work/bad.txt" || fail "the rejection: $(cat "$work/bad.txt")"
[ "$(limits_of "$A")" = "$want" ] || fail "node A's limits after the rejection"

# A node that is not there is unreachable, and the others still applied.
set +e
inspect --apply="$work/tight.json" $(as operator) "127.0.0.1:$(free_port)" \
  "127.0.0.1:${ctl[b]}" >"$work/gone.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "--apply with a node gone: exit $rc"
sed -n 1p "$work/gone.txt" | grep -q ": unreachable: " || fail "the node gone"
[ "$(sed -n 2p "$work/gone.txt")" = "127.0.0.1:${ctl[b]}: applied" ] || fail "after it"

# The fleet line sums what the three nodes hold: a client dials node A three
# times (the third is over the new per-peer limit of 2) and node B once.
listen_a=$(sed -n 's/^listen=//p' "$work/a.ready")
listen_b=$(sed -n 's/^listen=//p' "$work/b.ready")
"$bin/peer-node" --peer-id=client --connect="127.0.0.1:$listen_a" \
  --connect="127.0.0.1:$listen_a" --connect="127.0.0.1:$listen_a" \
  --connect="127.0.0.1:$listen_b" >"$work/client.log" 2>&1 &
pids+=($!)
want_fleet="fleet        3 of 3 nodes read | connections 3 | denials 1"
deadline=$((SECONDS + 20))
while :; do
  inspect $(as reader) "$A" "127.0.0.1:${ins[b]}" "127.0.0.1:${ins[c]}" >"$work/fleet.txt" ||
    fail "the fleet read"
  [ "$(tail -n 1 "$work/fleet.txt")" = "$want_fleet" ] && break
  [ $SECONDS -lt $deadline ] || fail "the fleet line: $(tail -n 1 "$work/fleet.txt")"
  sleep 0.1
done

# HTTPS on the admin port: a reader's certificate reads /state, nothing else does.
https() { # WHO (or none): the HTTP status, or "refused"
  timeout 20 python3 - "$work" "$admin" "$1" <<'PY'
import ssl, sys, urllib.request
work, port, who = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(work + "/ca1.pem")
if who != "none":
    ctx.load_cert_chain(work + "/" + who + ".pem", work + "/" + who + ".key")
try:
    r = urllib.request.urlopen("https://127.0.0.1:" + port + "/state", timeout=5, context=ctx)
    print(r.status)
except Exception:
    print("refused")
PY
}
[ "$(https reader)" = "200" ] || fail "HTTPS with a reader's certificate"
for who in none stranger expired operator; do
  [ "$(https $who)" = "refused" ] || fail "HTTPS with $who"
done

# Each node stops on SIGTERM after all of it, and exits 0.
for n in a b c; do
  kill "${node_pid[$n]}"
  deadline=$((SECONDS + 20))
  while kill -0 "${node_pid[$n]}" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "node $n did not stop within 20 s of SIGTERM"
    sleep 0.05
  done
  wait "${node_pid[$n]}" || fail "node $n exited with $? on SIGTERM"
done

echo "tls: refusals, three nodes applied, a rejected config kept out, HTTPS, stopped"
