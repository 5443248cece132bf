#!/usr/bin/env bash
# quietly.sh NAME CMD...: runs CMD with its output in .build/logs/NAME.log and
# prints one line; when CMD fails, the log's last 80 lines that are not a
# passing package's summary (go test's "ok" lines), and the failure.
# make test runs its steps through it.
set -uo pipefail
name=$1
shift
mkdir -p .build/logs
log=.build/logs/$name.log
start=$(date +%s)
if "$@" >"$log" 2>&1; then
  echo "$name: ok in $(($(date +%s) - start)) s (log: $log)"
else
  rc=$?
  grep -Ev '^(ok|\?) ' "$log" | tail -n 80
  echo "$name: FAILED, exit $rc (log: $log)"
  exit "$rc"
fi
