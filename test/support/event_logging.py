"""Run with the Python of a real dbt-core: fires the same dbt events through dbt's own loggers (stdout JSON at info, as
the action asks; dbt.log in dbt's debug text format at debug) twice, in a fresh process each: as dbt does, and after
worker_host.lighten_event_logging() (which also builds plain events by their message's constructor). Prints one JSON object: both outputs, and what the lightening installed and
skipped. test/host.integration.test.ts compares them."""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any, Dict

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src", "dbt"))


def fire_all(lighten: bool, log_path: str) -> Dict[str, Any]:
    import worker_host
    from dbt.adapters.events.types import SQLQuery
    import dbt.events.logging as dbt_logging
    from dbt.events.types import LogStartLine, MainReportVersion
    from dbt_common.events import base_types, event_manager, functions, logger
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager_client import get_event_manager
    from dbt_common.events.logger import LineFormat
    from dbt_common.events.types import Note, PrintEvent

    # Timestamps, the pid and the invocation id fixed, so that two processes write the same bytes.
    setattr(base_types, "get_json_string_utcnow", lambda: "2025-01-02T03:04:05.678901Z")
    setattr(base_types, "get_pid", lambda: 4242)
    setattr(base_types, "get_invocation_id", lambda: "parallel-dbt-probe")
    setattr(functions, "get_invocation_id", lambda: "parallel-dbt-probe")
    setattr(dbt_logging, "get_invocation_id", lambda: "parallel-dbt-probe")
    if lighten:
        worker_host.lighten_event_logging()
    rendered = {"n": 0}
    original_create = logger._JsonLogger.create_line

    def counting_create(self: Any, msg: Any) -> str:
        rendered["n"] += 1
        return str(original_create(self, msg))

    setattr(logger._JsonLogger, "create_line", counting_create)
    stdout = io.StringIO()
    manager = get_event_manager()
    manager.loggers.clear()
    config = functions.get_stdout_config(LineFormat.Json, False, EventLevel.INFO, False)
    config.output_stream = stdout
    manager.add_logger(config)
    manager.add_logger(dbt_logging._get_logfile_config(log_path, False, LineFormat.DebugText, EventLevel.DEBUG, 10 * 1024 * 1024))
    node_info = {"unique_id": "model.p.m", "node_name": "m", "node_status": "started", "resource_type": "model"}
    events = 0
    # More rounds than worker_host.EVENT_CHECKS: the later events are built directly (construct_events_directly).
    for i in range(2 * worker_host.EVENT_CHECKS):
        functions.fire_event(MainReportVersion(version="1.0", log_version=3))
        functions.fire_event(SQLQuery(conn_name="model.p.m", sql=f"select {i} as secret_{os.environ['DBT_ENV_SECRET_PROBE']}", node_info=node_info))
        functions.fire_event(LogStartLine(description="view model s.m", index=i, total=3, node_info=node_info))
        functions.fire_event(Note(msg=f"a warning {i}"), level=EventLevel.WARN)
        functions.fire_event(Note(msg=f"a note {i}"))
        functions.fire_event(PrintEvent(msg=f"printed {i}"))
        events += 6
    for h in logging_handlers(manager):
        h.flush()
    with open(log_path, encoding="utf-8") as f:
        file_log = f.read()
    return {
        "stdout": stdout.getvalue(), "file": file_log, "events": events, "rendered_json": rendered["n"],
        "fast_header": event_manager.msg_from_base_event is not base_types.msg_from_base_event,
        "direct_events": worker_host.DIRECT_EVENTS[0],
    }


def logging_handlers(manager: Any) -> Any:
    for lg in manager.loggers:
        python_logger = getattr(lg, "_python_logger", None)
        if python_logger is not None:
            yield from python_logger.handlers


if __name__ == "__main__":
    os.environ["DBT_ENV_SECRET_PROBE"] = "hunter2"
    print(json.dumps(fire_all(sys.argv[1] == "lighten", sys.argv[2])))
