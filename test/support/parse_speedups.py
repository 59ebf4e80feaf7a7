"""Run with the Python of a real dbt-core. Two modes, each printing one JSON object (test/host.integration.test.ts
reads its last line):

- `checks`: worker_host's parse speedups against dbt's own functions, value by value: the validation memo gives each
  value the outcome dbt's validation gives it (passes pass, failures raise the same message, also a value met before
  with another type), and the quick secret scan returns what dbt's returns as the environment changes.
- `parse <on|off> <target root> <project dir>...`: for each project, `dbt deps` (with a packages.yml), then
  `dbt parse --no-partial-parse` in this one process (as the host parses), after worker_host.install_parse_speedups()
  (on) or as dbt is (off), into <target root>/<n>. Says what was installed and, per project: whether the parse
  succeeded, dbt's error, what the parallel SQL parse reported (worker_host.PARSE_REPORT), the Jinja log events in
  the order dbt fired them, what dbt's print() wrote (lines with "printed "), and what manifest.json does not hold
  (env_vars, the static parser's counters). The test compares the manifest.json files and these."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any, Dict, List, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src", "dbt"))


def outcome(cls: Any, value: Any) -> str:
    """What validating value as cls gives: "ok", or the error's type and message."""
    try:
        cls.validate(value)
        return "ok"
    except Exception as e:  # noqa: BLE001 - the outcome is the point
        return f"{type(e).__name__}: {e}"


def checks() -> Dict[str, Any]:
    import worker_host
    from dbt.artifacts.resources.v1.config import Severity, TestConfig
    from dbt_common.exceptions import base as exceptions_base

    good = TestConfig().to_dict(omit_none=False)
    values: List[Tuple[str, Any]] = [
        ("default test config", good),
        ("the same again", dict(good)),
        ("severity as dbt's Severity", {**good, "severity": Severity("warn")}),
        ("an unknown severity", {**good, "severity": "sometimes"}),
        ("tags as a tuple", {**good, "tags": ("a", "b")}),
        ("tags as a list", {**good, "tags": ["a", "b"]}),
        ("limit as a bool", {**good, "limit": True}),
        ("limit as an int", {**good, "limit": 1}),
        ("limit as a string", {**good, "limit": "1"}),
        ("the unknown severity again", {**good, "severity": "sometimes"}),
        ("the default again", dict(good)),
    ]
    # dbt's outcomes first (nothing installed yet), then the memo's, twice: the second round meets every value again.
    # jsonschema validators built per round: dbt builds one for each value that reaches the schema check.
    from dbt_common import dataclass_schema

    built = [0]
    draft7 = dataclass_schema.jsonschema.Draft7Validator

    def counting_validator(*args: Any, **kwargs: Any) -> Any:
        built[0] += 1
        return draft7(*args, **kwargs)

    def round_of() -> Tuple[Dict[str, str], int]:
        built[0] = 0
        seen = {name: outcome(TestConfig, v) for name, v in values}
        return seen, built[0]

    setattr(dataclass_schema.jsonschema, "Draft7Validator", counting_validator)
    try:
        plain, plain_built = round_of()
        worker_host.memoize_validation()
        memo_first, first_built = round_of()
        memo_again, again_built = round_of()
    finally:
        setattr(dataclass_schema.jsonschema, "Draft7Validator", draft7)
    keys_differ = {
        "1 vs True": worker_host.value_key(1) != worker_host.value_key(True),
        "1 vs 1.0": worker_host.value_key(1) != worker_host.value_key(1.0),
        "list vs tuple": worker_host.value_key([1]) != worker_host.value_key((1,)),
        "dict order": worker_host.value_key({"a": 1, "b": 2}) != worker_host.value_key({"b": 2, "a": 1}),
        "str vs Severity": worker_host.value_key("warn") != worker_host.value_key(Severity("warn")),
    }
    unkeyable = False
    try:
        worker_host.value_key({"a": object()})
    except worker_host.Unkeyable:
        unkeyable = True

    original = exceptions_base.env_secrets
    rounds: List[Dict[str, Any]] = []
    os.environ["DBT_ENV_SECRET_PROBE_A"] = "hunter2"
    os.environ["DBT_ENV_SECRET_PROBE_BLANK"] = "   "
    os.environb[b"DBT_ENV_SECRET_PROBE_BYTES"] = b"caf\xe9-\xff"  # not UTF-8: decoded with surrogateescape
    worker_host.scan_secrets_quickly()
    quick = exceptions_base.env_secrets
    rounds.append({"dbt": original(), "quick": quick()})
    os.environ["DBT_ENV_SECRET_PROBE_LATER"] = "set after install"
    rounds.append({"dbt": original(), "quick": quick()})
    del os.environ["DBT_ENV_SECRET_PROBE_A"]
    rounds.append({"dbt": original(), "quick": quick()})
    return {
        "plain": plain,
        "memo_first": memo_first,
        "memo_again": memo_again,
        "validators_built": {"plain": plain_built, "memo_first": first_built, "memo_again": again_built},
        "keys_differ": keys_differ,
        "unkeyable": unkeyable,
        "secrets_installed": quick is not original,
        "secret_rounds": [{"same": r["dbt"] == r["quick"], "count": len(r["dbt"])} for r in rounds],
    }


def parse(mode: str, root: str, projects: List[str]) -> Dict[str, Any]:
    import worker_host

    installed = worker_host.install_parse_speedups() if mode == "on" else []
    from dbt.cli.main import dbtRunner

    out: List[Dict[str, Any]] = []
    for n, project in enumerate(projects):
        target = os.path.join(root, str(n))
        where = ["--project-dir", project, "--profiles-dir", project]
        logs = ["--log-path", os.path.join(target, "logs")]
        if os.path.exists(os.path.join(project, "packages.yml")):
            dbtRunner().invoke(["--quiet", "deps", *where, *logs])
        jinja: List[str] = []

        def seen(msg: Any) -> None:
            if msg.info.name.startswith("JinjaLog"):
                jinja.append(f"{msg.info.name} {msg.info.level}: {msg.info.msg}")

        argv = ["--quiet", "--no-use-colors", "--no-partial-parse", "parse", *where]
        # What dbt prints (print() in Jinja) goes where the host sends it: a file in place of fd 1.
        with tempfile.TemporaryFile() as capture:
            sys.stdout.flush()
            saved = os.dup(1)
            os.dup2(capture.fileno(), 1)
            try:
                result = dbtRunner(callbacks=[seen]).invoke([*argv, "--target-path", target, *logs])
            finally:
                sys.stdout.flush()
                os.dup2(saved, 1)
                os.close(saved)
            capture.seek(0)
            printed = [line for line in capture.read().decode("utf-8", "replace").splitlines() if "printed " in line]
        manifest = result.result if result.success else None
        out.append(
            {
                "ok": bool(result.success),
                "error": None if result.exception is None else str(result.exception),
                "report": list(worker_host.PARSE_REPORT),
                "jinja": jinja,
                "printed": printed,
                "env_vars": None if manifest is None else dict(manifest.env_vars),
                "parsing_info": None if manifest is None else dict(vars(manifest._parsing_info)),
                # What a later partial parse starts from (partial_parse.msgpack holds them): each file's record.
                "files": None if manifest is None else {k: v.to_dict() for k, v in sorted(manifest.files.items())},
            }
        )
        worker_host.PARSE_REPORT.clear()
    return {"installed": installed, "projects": out}


if __name__ == "__main__":
    if sys.argv[1] == "checks":
        print(json.dumps(checks()))
    else:
        print(json.dumps(parse(sys.argv[2], sys.argv[3], sys.argv[4:])))
