"""Run with the Python of a real dbt-core: worker_host.StateReadAhead against dbt's own PreviousState.

`python state_ahead.py <work dir>`: writes a small project (models, a seed, generic tests, a unit test with a fixture
file: Manifest.fixtures), parses it with dbtRunner in this process (as the host parses: dbt's flags are then set),
adds a run_results.json to its target, which is then the state; reads that state ahead (a forked reader, as the
host does during its parse) and takes it for an ls's folders, and builds dbt's own PreviousState of the same
folders. Prints one JSON object (test/host.integration.test.ts reads the last line): every Manifest field that
differs (none expected), whether results and the folders match, and what take says and gives for other folders, for
a state that is its own target, for a reader that left nothing, and for one that does not finish.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "dbt"))

import worker_host as wh  # noqa: E402

FILES: Dict[str, str] = {
    "dbt_project.yml": 'name: probe\nversion: "1.0.0"\nconfig-version: 2\nprofile: probe\n',
    "profiles.yml": (
        "probe:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: 1\n"
        "      user: u\n      password: p\n      dbname: d\n      schema: s\n      threads: 1\n"
    ),
    "seeds/raw_orders.csv": "id,amount\n1,10\n2,20\n",
    "models/orders.sql": "select id, amount from {{ ref('raw_orders') }}\n",
    "models/totals.sql": "select sum(amount) as total from {{ ref('orders') }}\n",
    "models/schema.yml": (
        "version: 2\nmodels:\n  - name: orders\n    columns:\n      - name: id\n        tests: [unique, not_null]\n"
        "unit_tests:\n  - name: totals_add_up\n    model: totals\n    given:\n      - input: ref('orders')\n"
        "        format: csv\n        fixture: two_orders\n    expect:\n      rows:\n        - {total: 30}\n"
    ),
    "tests/fixtures/two_orders.csv": "id,amount\n1,10\n2,20\n",
}


def run_results(uids: List[str], version: str) -> Dict[str, Any]:
    """A run_results.json with these nodes passed (the shape src/dbt/run-results.ts selectionStateFile writes)."""
    return {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
            "dbt_version": version,
            "generated_at": "2026-12-04T00:00:00.000000Z",
            "invocation_id": "state-ahead-probe",
            "env": {},
        },
        "results": [
            {
                "unique_id": u, "status": "success", "timing": [], "thread_id": "probe", "execution_time": 0,
                "adapter_response": {}, "message": None, "failures": None, "compiled": None, "compiled_code": None,
                "relation_name": None, "batch_results": None,
            }
            for u in uids
        ],
        "elapsed_time": 0,
        "args": {},
    }


def plain(value: Any) -> Any:
    """A value as data, to compare: dbt's objects by their to_dict() (FileHash's == is False for a "none" hash, even
    against itself), containers item by item."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(repr(plain(v)) for v in value)
    return value


def main(work: str) -> Dict[str, Any]:
    from dbt.cli.main import dbtRunner
    from dbt.contracts.state import PreviousState
    from dbt.version import __version__

    project = os.path.join(work, "project")
    for rel, text in FILES.items():
        os.makedirs(os.path.dirname(os.path.join(project, rel)), exist_ok=True)
        with open(os.path.join(project, rel), "w") as f:
            f.write(text)
    state = os.path.join(work, "state")
    parsed = dbtRunner().invoke(["parse", "--project-dir", project, "--profiles-dir", project, "--target-path", state, "--quiet"])
    if not parsed.success:
        return {"error": f"dbt parse failed: {parsed.exception}"}
    with open(os.path.join(state, "run_results.json"), "w") as f:
        json.dump(run_results(["model.probe.orders", "model.probe.totals"], str(__version__)), f)
    target = os.path.join(work, "list-1")
    os.makedirs(target)

    def ahead() -> wh.StateReadAhead:
        return wh.StateReadAhead(wh.StateAhead(state=state, target=target, project_root=project, dir=work))

    # As dbt's task calls it for the ls: Paths, the state as given, the target as configured.
    reader = ahead()
    loaded, said = reader.take(Path(state), Path(target), Path(project))
    folder_gone = not os.path.exists(reader.folder)
    own = PreviousState(state_path=Path(state), target_path=Path(target), project_root=Path(project))
    def field(manifest: Any, name: str) -> Any:
        value = plain(getattr(manifest, name))
        if name == "metadata" and isinstance(value, dict):
            value.pop("generated_at", None)  # dbt 1.8 stamps the time it read the state
        return value

    differ = [
        f.name
        for f in dataclasses.fields(own.manifest)
        if f.name != "_lock" and field(loaded.manifest, f.name) != field(own.manifest, f.name)
    ] if loaded is not None else ["(nothing taken)"]
    other = ahead()
    other_gives, other_said = other.take(Path(state), Path(os.path.join(work, "list-2")), Path(project))
    other.discard()
    itself = ahead()
    itself_gives, itself_said = itself.take(Path(state), Path(state), Path(project))
    itself.discard()
    # A reader that left nothing (its state folder gone): take says so and gives nothing; dbt then reads it itself.
    empty = ahead()
    empty.wait(until=1e12)
    empty.remove()
    empty.pid = os.getpid() + 10**6  # not a child: waitpid says so, as when the reader was reaped elsewhere
    empty_gives, empty_said = empty.take(Path(state), Path(target), Path(project))
    # A reader that does not finish: waited for as long again as it had (here nothing) plus STATE_AHEAD_WAIT, then
    # stopped and reaped; dbt reads the state itself.
    slow = ahead()
    slow.wait(until=1e12)
    slow.remove()
    sleeper = os.fork()
    if sleeper == 0:
        time.sleep(60)
        os._exit(0)
    slow.pid, slow.started = sleeper, time.time()
    wh.STATE_AHEAD_WAIT = 0.3
    slow_gives, slow_said = slow.take(Path(state), Path(target), Path(project))
    try:
        os.kill(sleeper, 0)
        slow_stopped = False
    except ProcessLookupError:
        slow_stopped = True
    return {
        "slow": {"gives": slow_gives is not None, "said": slow_said, "stopped": slow_stopped},
        "said": said,
        "differ": differ,
        "nodes": sorted(own.manifest.nodes) if own.manifest is not None else [],
        "fixtures": sorted(own.manifest.fixtures) if own.manifest is not None else [],
        "results_equal": loaded is not None and own.results is not None and loaded.results.to_dict() == own.results.to_dict(),
        "folders_equal": loaded is not None and (loaded.state_path, loaded.target_path, loaded.project_root) == (own.state_path, own.target_path, own.project_root),
        "sources_equal": loaded is not None and loaded.sources == own.sources and loaded.sources_current == own.sources_current,
        "folder_gone": folder_gone,
        "other": {"gives": other_gives is not None, "said": other_said},
        "itself": {"gives": itself_gives is not None, "said": itself_said},
        "empty": {"gives": empty_gives is not None, "said": empty_said},
        "left": sorted(e for e in os.listdir(work) if e.startswith("state-ahead-")),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
