#!/usr/bin/env bash
# Creates (or reuses) the three pinned dbt venvs the tests use — .dbt-venv (1.11), .dbt-venv-1.8, .dbt-venv-1.12 —
# side by side: each is a pip download and install, mostly waiting on the network, so three at once take about as
# long as the slowest. Fails (after all three end) if any failed, with that venv's log.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pids=()
variants=("" "1.8" "1.12")
for v in "${variants[@]}"; do
  bash "$here/setup-dbt.sh" ${v:+"$v"} >"$logs/${v:-main}.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  v=${variants[$i]}
  if ! wait "${pids[$i]}"; then
    echo "setup-dbt-all: the dbt venv '${v:-main}' could not be created:" >&2
    cat "$logs/${v:-main}.log" >&2
    failed=1
  else
    cat "$logs/${v:-main}.log" >&2
  fi
done
exit $failed
