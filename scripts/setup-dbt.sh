#!/usr/bin/env bash
# Creates (or reuses) a dbt venv with pinned versions from PyPI.
#   bash scripts/setup-dbt.sh        → .dbt-venv      from scripts/dbt-requirements.txt (the tests' main dbt)
#   bash scripts/setup-dbt.sh 1.8    → .dbt-venv-1.8  from scripts/dbt-requirements-1.8.txt (the oldest supported)
#   bash scripts/setup-dbt.sh 1.12   → .dbt-venv-1.12 from scripts/dbt-requirements-1.12.txt (dbt-core 1.12.0)
# A venv is reused when its stamp matches the requirements file; rebuilt otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
variant=${1:-}
venv="$root/.dbt-venv${variant:+-$variant}"
req="$root/scripts/dbt-requirements${variant:+-$variant}.txt"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x "$venv/bin/dbt" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python=${PYTHON:-python3}
echo "setup-dbt: creating $venv with $(grep -v '^#' "$req" | tr '\n' ' ')" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
"$venv/bin/dbt" --version >&2
echo "$want" > "$stamp"
