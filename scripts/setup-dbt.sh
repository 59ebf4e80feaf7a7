#!/usr/bin/env bash
# Creates (or reuses) the project's dbt venv at .dbt-venv with the pinned dbt-core + dbt-postgres.
# Reused when its stamp matches the requirements file; rebuilt otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.dbt-venv"
req="$root/scripts/dbt-requirements.txt"
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
