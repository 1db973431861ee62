#!/usr/bin/env bash
# Soak test: node A (peer-node) listens on loopback with every limit tight and,
# for MINUTES minutes, takes churn: node-B runs (peer-node --connect ...
# --exit-when-done, several at once, each with tight outbound limits of its
# own) that send /echo/1 messages, and raw-socket clients that drop, reset,
# stall, hold idle connections and send garbage frames. Streams are not on the
# wire yet (DESIGN §6.4), so none are churned.
#
# Once a minute it prints node A's RSS, open FDs, threads and counters (from
# GET /state); flat RSS and FDs are the target. After the churn it waits, with
# a deadline, for node A's connections to drain, then stops A with SIGTERM.
#
#   tools/soak.sh BIN_DIR MINUTES
#
# Exit 0 when node A lived through the churn, drained, exited 0 on SIGTERM, and
# its open FDs after the drain are at most SOAK_FD_MARGIN (default 4) above
# those before the churn. Exit 1 otherwise, 2 on bad arguments.
# Knobs: SOAK_B_PARALLEL (node-B runs at once, default 3), SOAK_RAW_CLIENTS
# (raw-socket clients at once, default 4), SOAK_WORK (keep the logs there).
set -euo pipefail

usage() {
  echo "usage: tools/soak.sh BIN_DIR MINUTES" >&2
  exit 2
}
[ $# -eq 2 ] || usage
bin=$1 minutes=$2
[ -x "$bin/peer-node" ] || {
  echo "soak: no executable peer-node in '$bin'" >&2
  exit 2
}
[[ "$minutes" =~ ^[1-9][0-9]{0,5}$ ]] || {
  echo "soak: MINUTES must be a positive integer (1 to 999999), got '$minutes'" >&2
  exit 2
}
for knob in SOAK_B_PARALLEL SOAK_RAW_CLIENTS SOAK_FD_MARGIN; do
  [[ "${!knob:-0}" =~ ^[0-9]{1,4}$ ]] || {
    echo "soak: $knob must be an integer from 0 to 9999, got '${!knob}'" >&2
    exit 2
  }
done

if [ -n "${SOAK_WORK:-}" ]; then
  work=$SOAK_WORK
  mkdir -p "$work"
  rm -f "$work/a.ready"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/rcmgr-soak.XXXXXX")
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Every limit of node A bites: pending and established inbound, per peer, the
# /echo/1 rate (per peer and total), the watcher's idle timeout, lifetime,
# bandwidth share and misbehaviour blocks. The memory limit is armed but
# generous: a denial would mean node A grew by hundreds of MB, which is what
# this run looks for. Node A dials nothing, so its outbound and total limits
# cannot bite; node B's configs (in the driver) make those bite on node B.
cat >"$work/a.json" <<'JSON'
{"connection_limits": {"max_pending_inbound": 6, "max_pending_outbound": 4,
   "max_established_inbound": 7, "max_established_outbound": 4,
   "max_established_per_peer": 2, "max_established_total": 14},
 "memory": {"max_bytes": 268435456, "sample_interval_ms": 50},
 "rate_limits": {"/echo/1": {"total": {"rate_per_s": 40, "burst": 30},
                             "per_peer": {"rate_per_s": 20, "burst": 8}},
                 "max_tracked_peers": 64},
 "watcher": {"refresh_interval_ms": 200, "idle_timeout_ms": 1500, "max_lifetime_ms": 4000,
             "peer_bandwidth_bytes_per_s": 200000, "misbehaviour_threshold": 150,
             "cooldown_ms": 1000}}
JSON

admin=$(free_port)
"$bin/peer-node" --listen=127.0.0.1:0 --peer-id=node-A --config="$work/a.json" \
  --admin-port="$admin" --handshake-timeout-ms=500 --ready-file="$work/a.ready" \
  >"$work/a.log" 2>&1 &
a_pid=$!
trap 'kill "$a_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  [ -f "$work/a.ready" ] && break
  kill -0 "$a_pid" 2>/dev/null || {
    cat "$work/a.log" >&2
    echo "soak: node A died on start" >&2
    exit 1
  }
  sleep 0.05
done
[ -f "$work/a.ready" ] || {
  echo "soak: node A did not come up within 10 s" >&2
  exit 1
}
port=$(sed -n 's/^listen=//p' "$work/a.ready")
echo "soak: node A (pid $a_pid) on 127.0.0.1:$port, GET /state on port $admin," \
  "$minutes min of churn; logs in $work"

driver_rc=0
python3 - "$bin" "$port" "$admin" "$a_pid" "$minutes" "$work" <<'PY' || driver_rc=$?
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

bin_dir, port, admin, pid, minutes, work = (
    sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
    int(sys.argv[5]), sys.argv[6])
HOST = "127.0.0.1"
B_PARALLEL = int(os.environ.get("SOAK_B_PARALLEL", "3"))
RAW_CLIENTS = int(os.environ.get("SOAK_RAW_CLIENTS", "4"))
FD_MARGIN = int(os.environ.get("SOAK_FD_MARGIN", "4"))
DRAIN_DEADLINE_S = 30
SOCKET_TIMEOUT_S = 5

stop = threading.Event()
lock = threading.Lock()
tally = {}  # what the clients did and what node A answered


def bump(key, n=1):
    with lock:
        tally[key] = tally.get(key, 0) + n


# -- node A, seen from outside ------------------------------------------------

def proc_sample():
    """RSS (kB), open FDs and threads of node A; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    if status.get("State", "").strip().startswith(("Z", "X")) or "VmRSS" not in status:
        return None
    return {"rss": int(status["VmRSS"].split()[0]), "fds": fds,
            "threads": int(status["Threads"])}


def get_state():
    try:
        url = f"http://{HOST}:{admin}/state"
        with urllib.request.urlopen(url, timeout=SOCKET_TIMEOUT_S) as r:
            return json.loads(r.read())
    except Exception:
        return None


def number(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else 0


def leaf_sum(x):
    if isinstance(x, dict):
        return sum(leaf_sum(v) for v in x.values())
    return number(x)


def part(st, *path):
    for key in path:
        st = st.get(key) if isinstance(st, dict) else None
    return st if st is not None else {}


def counters(st):
    """The cumulative counters of the table, from one state dump."""
    if not isinstance(st, dict):
        return None
    denials = part(st, "limits", "denials")
    conn_limit = denials.get("connection_limit")
    rate = sum(number(p.get("denied", {}).get("total")) +
               number(p.get("denied", {}).get("per_peer"))
               for p in part(st, "rate_limits", "protocols").values()
               if isinstance(p, dict))
    return {
        "est": leaf_sum(part(st, "connections", "established")),
        "pend": leaf_sum(part(st, "connections", "pending")),
        "conn_denied": number(conn_limit.get("total")) if isinstance(conn_limit, dict)
        else number(conn_limit),
        "rate_denied": rate,
        "blocked": number(denials.get("blocked")),
        "mem_denied": number(denials.get("memory_limit")),
        "anomalies": leaf_sum(part(st, "anomalies")),
        "closed": leaf_sum(part(st, "watcher", "closed_by_reason")),
        "missing": st.get("missing") or [],
    }


COLUMNS = [("min", 5), ("rss_kB", 8), ("fds", 5), ("thr", 4), ("est", 4),
           ("conn_denied", 12), ("rate_denied", 12), ("blocked", 8), ("mem_denied", 11),
           ("anomalies", 10), ("w_closed", 9), ("b_runs", 7), ("raw", 7)]


def row(label, p, c):
    with lock:
        b_runs, raw = tally.get("B runs", 0), tally.get("raw sessions", 0)
    cells = [label, p["rss"], p["fds"], p["threads"]]
    if c is None:
        cells += ["?"] * 7
    else:
        cells += [c["est"], c["conn_denied"], c["rate_denied"], c["blocked"],
                  c["mem_denied"], c["anomalies"], c["closed"]]
    cells += [b_runs, raw]
    line = "".join(str(v).rjust(w) for v, (_, w) in zip(cells, COLUMNS))
    if c is not None and c["missing"]:
        line += "  missing: " + ",".join(map(str, c["missing"]))
    print(line, flush=True)


# -- frames (DESIGN §5, net/frame_codec.hpp) -----------------------------------

HELLO, DATA, REJECT = 1, 2, 3


def frame(kind, payload):
    return struct.pack(">IB", 1 + len(payload), kind) + payload


def hello(peer):
    return frame(HELLO, json.dumps({"peer": peer}).encode())


def data(protocol, body):
    name = protocol.encode()
    return frame(DATA, bytes([len(name)]) + name + body)


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_frame(s):
    head = recv_exact(s, 5)
    if head is None:
        return None
    length, kind = struct.unpack(">IB", head)
    body = recv_exact(s, length - 1)
    return None if body is None else (kind, body)


def denial_name(payload):
    try:
        d = json.loads(payload)
        return d.get("code", "?") + ("/" + d["kind"] if "kind" in d else "")
    except ValueError:
        return "unreadable"


def wait_closed(s):
    """Reads until node A closes the connection (or the socket times out)."""
    try:
        while s.recv(65536):
            pass
    except ConnectionError:
        pass
    bump("raw closed by node A")


def handshake(s, peer):
    s.sendall(hello(peer))
    f = read_frame(s)
    if f is None:
        bump("raw closed before an answer")
        return False
    if f[0] == HELLO:
        bump("raw established")
        return True
    bump("raw refused: " + (denial_name(f[1]) if f[0] == REJECT else f"frame {f[0]}"))
    return False


def read_answers(s, n):
    """Reads n answers; False when node A closed the connection first."""
    for _ in range(n):
        f = read_frame(s)
        if f is None:
            return False
        if f[0] == DATA:
            bump("raw echoes")
        elif f[0] == REJECT:
            bump("raw message refused: " + denial_name(f[1]))
    return True


# -- raw-socket scenarios ------------------------------------------------------

def raw_peer():
    return f"raw-{random.randrange(8)}"


def sc_drop(s):
    pass


def sc_reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def sc_hello_close(s):
    handshake(s, raw_peer())


def sc_echo(s):
    if handshake(s, raw_peer()):
        n = random.randint(1, 12)
        s.sendall(b"".join(data("/echo/1", b"soak %d" % i) for i in range(n)))
        read_answers(s, n)


def sc_echo_big(s):
    if handshake(s, raw_peer()):
        body = os.urandom(64 * 1024)
        s.sendall(data("/echo/1", body) * 3)
        read_answers(s, 3)


def sc_idle(s):
    # Holds a slot until the watcher's idle timeout closes it.
    if handshake(s, raw_peer()):
        wait_closed(s)


def sc_long_lived(s):
    # Keeps talking past max_lifetime_ms (4 s): the watcher's lifetime close.
    if handshake(s, raw_peer()):
        for _ in range(40):
            s.sendall(data("/echo/1", b"tick"))
            if not read_answers(s, 1):
                bump("raw long-lived closed by node A")
                return
            time.sleep(0.25)


def sc_no_hello(s):
    wait_closed(s)  # the handshake timeout closes it


def sc_slow_hello(s):
    for b in hello(raw_peer()):
        s.sendall(bytes([b]))
        time.sleep(0.015)
    f = read_frame(s)
    bump("raw slow hello " + ("closed" if f is None else f"answered {f[0]}"))


def sc_garbage(s):
    established = False
    kind = random.choice(["random", "bad_type", "zero_length", "oversized", "data_first",
                          "bad_hello", "hello_no_peer", "hello_twice", "empty_name",
                          "unknown_protocol"])
    if kind in ("hello_twice", "empty_name", "unknown_protocol"):
        established = handshake(s, raw_peer())
        if not established:
            return
    s.sendall({
        "random": lambda: os.urandom(random.randint(1, 64)),
        "bad_type": lambda: frame(9, b"x"),
        "zero_length": lambda: b"\0\0\0\0",
        "oversized": lambda: struct.pack(">IB", 64 << 20, DATA),
        "data_first": lambda: data("/echo/1", b"before hello"),
        "bad_hello": lambda: frame(HELLO, b"{not json"),
        "hello_no_peer": lambda: frame(HELLO, b'{"peer": ""}'),
        "hello_twice": lambda: hello(raw_peer()),
        "empty_name": lambda: frame(DATA, b"\0body"),
        "unknown_protocol": lambda: data("/nope/1", b"x"),
    }[kind]())
    bump("raw garbage " + kind)
    if kind == "unknown_protocol":
        return  # not a violation: the connection stays open, close it here
    wait_closed(s)


def sc_burst(_):
    # Many sockets at once, none says HELLO: the pending-inbound limit bites.
    socks = []
    try:
        for _ in range(12):
            c = socket.create_connection((HOST, port), timeout=SOCKET_TIMEOUT_S)
            socks.append(c)
        time.sleep(0.1)
    finally:
        for c in socks:
            c.close()


SCENARIOS = [(sc_drop, 2), (sc_reset, 2), (sc_hello_close, 2), (sc_echo, 4),
             (sc_echo_big, 1), (sc_idle, 2), (sc_long_lived, 1), (sc_no_hello, 1), (sc_slow_hello, 1),
             (sc_garbage, 4), (sc_burst, 1)]


def raw_client():
    fns = [f for f, w in SCENARIOS for _ in range(w)]
    while not stop.is_set():
        fn = random.choice(fns)
        s = socket.socket()
        s.settimeout(SOCKET_TIMEOUT_S)
        try:
            if fn is not sc_burst:
                s.connect((HOST, port))
            fn(s)
        except socket.timeout:
            bump(f"raw no answer within {SOCKET_TIMEOUT_S} s ({fn.__name__[3:]})")
        except OSError:
            bump("raw reset by node A")
        finally:
            s.close()
        bump("raw sessions")
        time.sleep(0.02)  # pacing


# -- node-B runs ---------------------------------------------------------------

# Each run dials node A 4 times and sends 12 /echo/1 messages on each
# connection it keeps; its own limits refuse some of its dials.
B_CONFIGS = [("outbound", {"connection_limits": {"max_established_outbound": 1}})] * 3 + \
            [("total", {"connection_limits": {"max_established_total": 1}})] * 3 + \
            [("pending", {"connection_limits": {"max_pending_outbound": 0}})]


def b_runner(index):
    paths = {}
    for name, cfg in B_CONFIGS:
        paths[name] = os.path.join(work, f"b-{name}.json")
        with open(paths[name], "w") as f:
            json.dump(cfg, f)
    while not stop.is_set():
        name, _ = random.choice(B_CONFIGS)
        cmd = [os.path.join(bin_dir, "peer-node"), f"--peer-id=node-B{random.randrange(2)}",
               f"--connect={HOST}:{port}", "--connections=4", "--send=12",
               "--exit-when-done", f"--config={paths[name]}"]
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=60)
        except subprocess.TimeoutExpired:
            bump("B runs that hung (killed after 60 s)")
            continue
        bump("B runs")
        if r.returncode != 0:
            bump(f"B runs that exited {r.returncode}")
            with open(os.path.join(work, f"b-failed-{index}.log"), "a") as f:
                f.write(r.stdout)
        for line in r.stdout.splitlines():
            if line.startswith("connected to "):
                bump("B connections")
            elif " refused" in line and line.startswith("connection to "):
                # A refusal carries the denial; a failed dial (node A closed
                # it while pending), the error text.
                brace = line.find("{")
                if brace < 0:
                    why = re.sub(r"[0-9]+", "N", line.split(": ", 1)[-1])[:80]
                    bump(f"B dials failed: {why}")
                else:
                    where = "node A" if "by the remote" in line else "node B"
                    bump(f"B refused by {where}: " + denial_name(line[brace:]))
            elif line.startswith("REJECT from "):
                bump("B messages refused: " + denial_name(line[line.find("{"):]))
            elif line.startswith("not every message was answered"):
                bump("B runs with unanswered messages")
        time.sleep(0.05)  # pacing


# -- the run -------------------------------------------------------------------

def alive():
    return proc_sample() is not None


def main():
    failures = []
    before = proc_sample()
    if before is None:
        print("soak: node A is gone before the churn", flush=True)
        return 1
    print("".join(name.rjust(w) for name, w in COLUMNS), flush=True)
    row("idle", before, counters(get_state()))

    threads = [threading.Thread(target=b_runner, args=(i,), daemon=True)
               for i in range(B_PARALLEL)]
    threads += [threading.Thread(target=raw_client, daemon=True) for _ in range(RAW_CLIENTS)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    samples = []
    for minute in range(1, minutes + 1):
        end = t0 + 60 * minute
        while alive() and time.monotonic() < end:
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        p = proc_sample()
        if p is None:
            failures.append(f"node A died during minute {minute}")
            break
        samples.append(p)
        row(str(minute), p, counters(get_state()))
    stop.set()
    for t in threads:
        t.join(timeout=90)
    if any(t.is_alive() for t in threads):
        failures.append("a churn client did not stop within 90 s")

    drained = None
    if not failures:
        # Wait for node A to close what the churn left behind.
        deadline = time.monotonic() + DRAIN_DEADLINE_S
        while time.monotonic() < deadline:
            p, c = proc_sample(), counters(get_state())
            if p is None:
                failures.append("node A died after the churn")
                break
            if c is not None and c["est"] + c["pend"] == 0 and \
                    p["fds"] <= before["fds"] + FD_MARGIN:
                drained = (p, c)
                break
            time.sleep(0.1)
        if drained is None and not failures:
            p, c = proc_sample(), counters(get_state())
            failures.append(
                f"node A did not drain within {DRAIN_DEADLINE_S} s: "
                f"{p['fds'] if p else '?'} FDs (before the churn: {before['fds']}, "
                f"margin {FD_MARGIN}), {c['est'] if c else '?'} established, "
                f"{c['pend'] if c else '?'} pending")
        elif drained is not None:
            row("drain", *drained)

    if samples:
        first, last = samples[0], samples[-1]
        print(f"soak: RSS kB  minute 1 -> {len(samples)}: {first['rss']} -> {last['rss']}"
              f" (x{last['rss'] / first['rss']:.3f}); before the churn {before['rss']}",
              flush=True)
        print(f"soak: FDs     minute 1 -> {len(samples)}: {first['fds']} -> {last['fds']}"
              f" (x{last['fds'] / first['fds']:.3f}); before the churn {before['fds']}"
              + (f", drained {drained[0]['fds']}" if drained else ""), flush=True)
    st = get_state()
    if isinstance(st, dict):
        print("soak: node A denials " + json.dumps(part(st, "limits", "denials"),
                                                    sort_keys=True), flush=True)
        print("soak: node A anomalies " + json.dumps(part(st, "anomalies"), sort_keys=True),
              flush=True)
        print("soak: node A rate limits " + json.dumps(
            {k: v.get("denied") for k, v in part(st, "rate_limits", "protocols").items()
             if isinstance(v, dict)}, sort_keys=True), flush=True)
        watcher = part(st, "watcher")
        print("soak: node A watcher " + json.dumps(
            {k: watcher.get(k) for k in ("closed_by_reason", "pruned", "pauses", "blocks")},
            sort_keys=True), flush=True)
    with lock:
        for key in sorted(tally):
            print(f"soak: {key}: {tally[key]}", flush=True)
    for f in failures:
        print("soak: FAIL: " + f, flush=True)
    return 1 if failures else 0


sys.exit(main())
PY

# SIGTERM, then wait (with a deadline) until node A has exited: a zombie or
# no /proc entry at all.
exited() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$a_pid/status" 2>/dev/null || true)
  [ -z "$state" ] || [ "$state" = Z ]
}
kill -TERM "$a_pid" 2>/dev/null || true
for _ in $(seq 1 300); do
  exited && break
  sleep 0.1
done
if ! exited; then
  echo "soak: FAIL: node A did not exit within 30 s of SIGTERM" >&2
  kill -KILL "$a_pid" 2>/dev/null || true
fi
a_rc=0
wait "$a_pid" || a_rc=$?
trap - EXIT
if [ "$a_rc" -ne 0 ]; then
  echo "soak: FAIL: node A exited $a_rc (log: $work/a.log)" >&2
  tail -n 20 "$work/a.log" >&2
  exit 1
fi
echo "soak: node A exited 0 on SIGTERM"
if [ "$driver_rc" -ne 0 ]; then
  echo "soak: FAIL (logs in $work)" >&2
  exit 1
fi
echo "soak: PASS"
[ -n "${SOAK_WORK:-}" ] || rm -rf "$work"
