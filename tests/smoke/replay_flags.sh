#!/usr/bin/env bash
# rcmgr-replay's flags: a bad --dump-list-cap is refused with exit 2 and a
# message naming it, before any line is read; a good one is taken.
# $1 = the directory of the programs.
set -uo pipefail
bin=$1
fail() { echo "FAIL: $*"; exit 1; }
for bad in 0 -1 x 1e3 "" 10000001 99999999999999999999; do
  err=$("$bin/rcmgr-replay" "--dump-list-cap=$bad" </dev/null 2>&1 >/dev/null)
  rc=$?
  [ "$rc" = 2 ] || fail "--dump-list-cap=$bad: exit $rc, want 2"
  case "$err" in
  *"--dump-list-cap wants a whole number from 1 to 10000000, not '$bad'"*) ;;
  *) fail "--dump-list-cap=$bad: message '$err'" ;;
  esac
done
out=$(echo '{"event":"pending_inbound","conn":1}' | "$bin/rcmgr-replay" --dump-list-cap=10000000)
[ "$?" = 0 ] || fail "--dump-list-cap=10000000 refused"
[ "$out" = '{"line":1,"event":"pending_inbound","verdict":"allow"}' ] || fail "output '$out'"
err=$("$bin/rcmgr-replay" --no-such-flag </dev/null 2>&1 >/dev/null)
[ "$?" = 2 ] || fail "an unknown flag is not refused"
echo "replay flags ok"
