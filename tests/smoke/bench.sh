#!/usr/bin/env bash
# Smoke test for rcmgr-bench: the tiny mode runs, exits 0 and writes
# one flat, valid JSON object in which every benchmark key is either measured
# (a number) or named under "missing_keys". Nothing about speed is asserted.
# Usage: bench.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: bench.sh BIN_DIR}
tool=$bin/rcmgr-bench
[ -x "$tool" ] || { echo "bench.sh: $tool is not built" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# A bad flag is a clear error with exit status 2.
set +e
"$tool" --no-such-flag >"$out/bad.out" 2>"$out/bad.err"
rc=$?
set -e
if [ "$rc" -ne 2 ]; then
  echo "bench.sh: a bad flag exited with $rc, expected 2" >&2
  exit 1
fi
grep -q "unknown argument" "$out/bad.err" || {
  echo "bench.sh: a bad flag gave no clear error:" >&2
  cat "$out/bad.err" >&2
  exit 1
}
# So is a CAF option CAF does not have, or a bad value of one it has.
for flag in --work-stealing.no-such-option=1 --work-stealing.aggressive-poll-attempts=many; do
  set +e
  "$tool" --tiny --only ip "$flag" >"$out/bad.out" 2>"$out/bad.err"
  rc=$?
  set -e
  if [ "$rc" -ne 2 ] || ! grep -q "bad CAF option: .*${flag}" "$out/bad.err"; then
    echo "bench.sh: $flag exited with $rc, expected 2 and an error naming it:" >&2
    cat "$out/bad.err" >&2
    exit 1
  fi
done

# The bench runs on work stealing: a policy other than the node's (stealing)
# or CAF's own (eager) is an error with exit status 2 naming what it takes.
set +e
"$tool" --tiny --only ip --scheduler.policy=testing >"$out/bad.out" 2>"$out/bad.err"
rc=$?
set -e
if [ "$rc" -ne 2 ] ||
  ! grep -q "scheduler.policy takes stealing or eager, got 'testing'" "$out/bad.err"; then
  echo "bench.sh: --scheduler.policy=testing exited with $rc, expected 2 and an error:" >&2
  cat "$out/bad.err" >&2
  exit 1
fi
# CAF's own work stealing on request; the JSON says which scheduler ran.
"$tool" --tiny --only ip --scheduler.policy=eager --json "$out/eager.json" >/dev/null 2>&1
python3 - "$out/eager.json" <<'EOF'
import json, sys

got = json.load(open(sys.argv[1])).get("caf_scheduler")
if got != "eager":
    sys.exit(f"bench.sh: caf_scheduler is {got!r} with --scheduler.policy=eager")
EOF

# CAF's work-stealing options reach the run's actor systems, and the JSON says
# which settings it ran with.
"$tool" --tiny --only ip --work-stealing.aggressive-poll-attempts=100 \
  --work-stealing.relaxed-sleep-duration=10ms --json "$out/options.json" >"$out/options.txt" 2>/dev/null
grep -q "2 CAF workers, node scheduler, --work-stealing.aggressive-poll-attempts=100, --work-stealing.relaxed-sleep-duration=10ms)" \
  "$out/options.txt" || {
  echo "bench.sh: the table does not name the CAF options:" >&2
  head -1 "$out/options.txt" >&2
  exit 1
}
python3 - "$out/options.json" <<'EOF'
import json, sys

got = json.load(open(sys.argv[1])).get("caf_work_stealing")
want = ("aggressive-poll-attempts=100,aggressive-steal-interval=10,moderate-poll-attempts=1,"
        "moderate-steal-interval=5,moderate-sleep-duration-us=50,relaxed-steal-interval=1,"
        "relaxed-sleep-duration-us=10000")
if got != want:
    sys.exit(f"bench.sh: caf_work_stealing is {got!r}, expected {want!r}")
EOF

"$tool" --tiny --json "$out/bench.json" >"$out/table.txt" 2>"$out/progress.txt"
# A stand-in that cannot take what a node sends (CAF's "unexpected message"),
# or a node left without verdicts, makes figures of timeouts.
if grep -E "unexpected message|no verdict from|rcmgr net: \[(warning|error)\]" \
  "$out/progress.txt" >&2; then
  echo "bench.sh: the run reported the errors above" >&2
  exit 1
fi
grep -q "lifecycle_events_per_s" "$out/table.txt" || {
  echo "bench.sh: no table on stdout" >&2
  exit 1
}

python3 - "$out/bench.json" <<'EOF'
import json, sys

with open(sys.argv[1]) as f:
    doc = json.load(f)
if not isinstance(doc, dict):
    sys.exit("bench.sh: the JSON is not an object")
for k, v in doc.items():
    if isinstance(v, (dict, list)):
        sys.exit(f"bench.sh: key {k} is not flat")
if doc.get("mode") != "tiny":
    sys.exit("bench.sh: mode is not tiny")
if not isinstance(doc.get("cores"), int) or doc["cores"] < 1:
    sys.exit("bench.sh: no core count")
# Without options, peer-node's settings (use_node_scheduler).
node_settings = ("aggressive-poll-attempts=1,aggressive-steal-interval=10,"
                 "moderate-poll-attempts=1,moderate-steal-interval=5,"
                 "moderate-sleep-duration-us=50,relaxed-steal-interval=1,"
                 "relaxed-sleep-duration-us=1000")
if doc.get("caf_work_stealing") != node_settings:
    sys.exit(f"bench.sh: caf_work_stealing is {doc.get('caf_work_stealing')!r}")
if doc.get("caf_scheduler") != "patient":
    sys.exit(f"bench.sh: caf_scheduler is {doc.get('caf_scheduler')!r}, expected 'patient'")
missing = [k for k in doc.get("missing_keys", "").split(",") if k]
keys = [
    "lifecycle_events_per_s", "lifecycle_batched_events_per_s",
    "core_direct_events_per_s", "lifecycle_vs_core_ratio",
    "admission_latency_p50_us", "admission_latency_p99_us",
    "admission_latency_p999_us", "admission_latency_oneway_p50_us",
    "admission_latency_oneway_p99_us", "admission_latency_oneway_p999_us",
    "oneway_floor_latency_p99_us", "admission_latency_p99_vs_floor_ratio",
    "admission_latency_request_p99_vs_floor_ratio",
    "bytes_per_connection", "bytes_per_connection_n",
    "churn_rss_growth_ratio", "scaling_cost_ratio", "dump_ms_100k",
    "rate_checks_per_s", "rate_checks_batched_per_s", "accept_ratio_vs_bare_asio",
    "accept_cycles_per_s", "bare_accept_cycles_per_s",
    "echo_events_per_s", "echo_batched_events_per_s", "echo_latency_p99_us",
    "lifecycle_request_events_per_s", "echo_oneway_events_per_s",
    "request_floor_events_per_s", "oneway_floor_events_per_s",
    "lifecycle_vs_oneway_floor_ratio", "rate_checks_request_per_s",
    "rate_checks_vs_oneway_floor_ratio",
    "lifecycle_vs_echo_ratio", "lifecycle_batched_vs_echo_ratio",
    "accept_switches_per_cycle", "bare_accept_switches_per_cycle",
    "echo_accept_cycles_per_s", "echo_accept_ratio_vs_bare_asio", "accept_vs_echo_ratio",
    "echo_accept_switches_per_cycle", "ip_check_ns", "allowlist_check_ns",
    "metrics_render_ms", "trace_batched_ratio", "trace_written_fraction",
    "scope_core_ops_per_s", "stream_policy_ops_per_s", "stream_batched_ops_per_s",
    "stream_batched_vs_core_ratio", "stream_policy_vs_core_ratio",
    "stream_batched_vs_policy_ratio", "stream_echo_ops_per_s",
    "stream_batched_vs_echo_ratio", "stream_batched_one_worker_ops_per_s",
    "stream_batched_one_worker_vs_core_ratio", "core_allocations_per_op", "bytes_per_stream",
    "io_message_p50_us", "io_message_p99_us", "io_message_long_job_p50_us",
    "io_message_long_job_p99_us", "io_message_long_job_max_us", "io_message_n",
]
for k in keys:
    if k in missing and k in doc:
        sys.exit(f"bench.sh: {k} is both measured and missing")
    if k == "bytes_per_connection_n":
        if "bytes_per_connection" in doc and k not in doc:
            sys.exit("bench.sh: bytes_per_connection without its connection count")
        continue
    if k not in missing and k not in doc:
        sys.exit(f"bench.sh: {k} is neither measured nor named missing")
    if k in doc and not isinstance(doc[k], (int, float)):
        sys.exit(f"bench.sh: {k} is not a number")
print(f"bench.sh: ok, {len(doc)} keys, missing: {', '.join(missing) or 'none'}")
EOF
