"""The worker host's protocol without dbt, for test/host-protocol.test.ts: worker_host.py's real framing, request
reading and handling, notices and control pipe, with only what needs dbt (running dbt, forking a worker, signalling
it) replaced by stand-ins that answer through the real Channel. Type-checked with worker_host.py (mypy --strict).

- `python3 host_contract.py frames`: writes a message of every event, output of both streams (one of them over
  64 KiB) and a notice of every kind, framed as the host frames them.
- `python3 host_contract.py` (what DbtHost.start runs): says it is ready, then serves requests with worker_host's
  Host; each stand-in writes what it was asked, as the host understood it, as JSON lines to the invocation's stdout.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "dbt"))

import worker_host as wh  # noqa: E402

SAMPLE_MESSAGES: List[Tuple[int, wh.Message]] = [  # (frame id, message)
    (0, wh.ReadyMessage(event="ready", pid=4242, seconds=1.5)),
    (0, wh.FailedMessage(event="failed", error="ModuleNotFoundError: No module named 'dbt'")),
    (7, wh.StartedMessage(event="started", id=7, pid=4243)),
    (7, wh.ExitMessage(event="exit", id=7, code=0, signal=None, seconds=2.25, profile=wh.ProfileFacts(threads=4, adapter_type="postgres", host="127.0.0.1"))),
    (8, wh.ExitMessage(event="exit", id=8, code=0, signal=None, seconds=0.5, profile=wh.ProfileFacts())),
    (9, wh.ExitMessage(event="exit", id=9, code=2, signal=None, error="the host has no parsed manifest")),
    (10, wh.ExitMessage(event="exit", id=10, code=None, signal="SIGKILL")),
    (13, wh.ExitMessage(event="exit", id=13, code=0, signal=None, cpu=3.5)),
    (11, wh.ForkCheckMessage(event="fork_check", id=11, ok=True, why="", gate=True)),
]

SAMPLE_NOTICES: List[wh.Notice] = [
    wh.StartedNotice(notice="started", ok=False),
    wh.RunningNotice(notice="running", cpu=1.25),
    wh.DroppedNotice(notice="dropped", relations=[(None, "analytics", "orders_v"), ("db", "analytics", "Ünïcode")]),
    wh.GrewNotice(notice="grew", workers=2, load=0.95, cpu_per_node=0.021),
    wh.MeasuredNotice(notice="measured", nodes=50, cpu_per_node=0.0125),
]


def frames() -> None:
    channel = wh.Channel(1)
    for ident, m in SAMPLE_MESSAGES:
        channel.message(ident, m)
    # An unknown request, answered by the host's own handling.
    wh.Host(channel, 2).handle({"op": "rewind", "id": 12})
    channel.send(b"O", 7, "line one\nlïne two\n".encode("utf-8"))
    channel.send(b"O", 7, b"x" * 70_000 + b"\n")
    channel.send(b"E", 7, b"")
    channel.send(b"E", 7, b"Traceback (most recent call last):\n")
    notices = b"".join(wh.notice_line(n) for n in SAMPLE_NOTICES)
    cut = len(notices) // 2  # one notice line across two frames, as a pipe read can cut it
    channel.send(b"N", 7, notices[:cut])
    channel.send(b"N", 7, notices[cut:])


class StandInHost(wh.Host):
    """worker_host.Host with its dbt-facing steps replaced; request reading, handling and notify are the real ones."""

    def __init__(self, channel: wh.Channel, diag_fd: int) -> None:
        super().__init__(channel, diag_fd)
        self.manifest = object()  # "parsed": fork_check then asks what it asks on a real host
        self.runs: Dict[int, Tuple[Optional[wh.SharedRun], int]] = {}
        self.linked_for: List[List[str]] = []
        self.state_ahead: Optional[wh.StateAhead] = None

    def tell(self, ident: int, record: Dict[str, Any]) -> None:
        self.channel.send(b"O", ident, (json.dumps(record) + "\n").encode("utf-8"))

    def invoke(self, ident: int, argv: List[str], keep_manifest: bool) -> None:
        record: Dict[str, Any] = {"call": "invoke", "argv": argv, "keep_manifest": keep_manifest}
        if self.linked_for:
            record["linked_for"] = self.linked_for  # what the host linked since the kept parse (its link_for)
        if self.state_ahead is not None:
            record["state_ahead"] = self.state_ahead  # what the host was asked to read while this ran
            self.state_ahead = None
        self.tell(ident, record)
        facts = wh.ProfileFacts(threads=4, adapter_type="postgres", host="127.0.0.1") if keep_manifest else wh.ProfileFacts()
        self.channel.message(ident, wh.ExitMessage(event="exit", id=ident, code=0, signal=None, seconds=0.5, profile=facts))

    def read_state_ahead(self, ahead: wh.StateAhead) -> None:
        self.state_ahead = ahead

    def linked_graph(self, argv: List[str]) -> Optional[wh.LinkedGraph]:
        self.linked_for.append(argv)
        return None

    def fork(self, ident: int, argv: List[str], share: Optional[wh.ShareSpec] = None) -> None:
        """A worker that runs until it is signalled, with a control pipe that notify writes to, as a forked one has."""
        ctl_r, ctl_w = os.pipe()
        self.workers[ident] = wh.Worker(ident, os.getpid(), -1, -1, ctl_w)
        self.workers[ident].fds.clear()
        run: Optional[wh.SharedRun] = None
        shared: Optional[Dict[str, Any]] = None
        if share is not None:
            note_r, note_w = os.pipe()
            run = wh.shared_run_of(share, note_w)
            shared = {
                "nodes": sorted(run.run_nodes), "start": run.start, "end": run.end, "results": run.results_path,
                "waiting": run.gate.waited() if run.gate is not None else None, "start_settled": run.started.is_set(),
                "start_ok": run.start_ok, "built": [what for kind, what in run.heard if kind == "built"],
                "pool": {"claims": run.pool.claims} if run.pool is not None else None,
            }
        self.runs[ident] = (run, ctl_r)
        self.channel.message(ident, wh.StartedMessage(event="started", id=ident, pid=os.getpid()))
        self.tell(ident, {"call": "fork", "argv": argv, "share": shared})
        if run is not None:
            for n in SAMPLE_NOTICES:
                run.notice(n)
            os.close(note_w)
            self.channel.send(b"N", ident, os.read(note_r, 65536))
            os.close(note_r)

    def notify(self, ident: int, done: List[Tuple[str, wh.PeerStatus]], dropped: Optional[List[wh.RelationKey]] = None) -> None:
        super().notify(ident, done, dropped)
        run, ctl_r = self.runs[ident]
        lines = [wh.parse_control_line(line) for line in os.read(ctl_r, 65536).split(b"\n") if line]
        for parsed in lines:  # as SharedRun.listen applies them
            if run is not None and parsed is not None and parsed["kind"] == "status":
                run.settle(parsed["uid"], parsed["status"])
        waiting = run.gate.waited() if run is not None and run.gate is not None else None
        failed = dict(run.gate.failed) if run is not None and run.gate is not None else None
        self.tell(ident, {"call": "notify", "lines": lines, "waiting": waiting, "failed": failed})

    def signal_worker(self, ident: int, name: str) -> None:
        self.tell(ident, {"call": "signal", "sig": name})
        w = self.workers.pop(ident)
        self.close_ctl(w)
        self.channel.message(ident, wh.ExitMessage(event="exit", id=ident, code=None, signal="SIGKILL" if name == "KILL" else "SIGINT"))

    def reap(self) -> None:
        pass  # stand-in workers end when signalled


def serve() -> int:
    channel = wh.Channel(os.dup(1))
    host = StandInHost(channel, os.dup(2))
    channel.message(0, wh.ReadyMessage(event="ready", pid=os.getpid(), seconds=0.0))
    try:
        while host.pump(0.2):
            pass
    except SystemExit as e:
        host.diag("shutdown requested")
        return int(e.code or 0)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["frames"]:
        frames()
        sys.exit(0)
    sys.exit(serve())
