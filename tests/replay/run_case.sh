#!/usr/bin/env bash
# Replays tests/replay/CASE.ndjson through rcmgr-replay (with CASE.config.json
# and the flags in CASE.args when present) and compares the output line by line with CASE.expected.
set -euo pipefail
replay=$1 case=$2 out=$3
args=()
[ -f "$case.config.json" ] && args+=("--config=$case.config.json")
if [ -f "$case.args" ]; then
  read -ra extra <"$case.args"
  args+=("${extra[@]}")
fi
"$replay" "${args[@]}" <"$case.ndjson" >"$out"
diff -u "$case.expected" "$out"
echo "$(wc -l <"$out") lines match"
