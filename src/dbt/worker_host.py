"""parallel-dbt worker host: import dbt once, parse once, fork one pre-loaded dbt worker per chunk.

Started by the action (execa, never a shell) with the Python interpreter of the user's dbt-core. Each chunk is
still its own OS process (dbt's "one invocation per process" rule holds), but it starts from a parsed manifest in
memory instead of paying Python imports and a partial parse again. See DBT-FACTS §13 for the facts relied on.

Protocol (all integers big-endian; the TypedDicts below are its shapes, src/dbt/host-protocol.ts says the same in
TypeScript, and test/host-protocol.test.ts drives this file's framing against the TypeScript reader):
- stdin: one JSON request per line (Request), told apart by "op":
  - "invoke" (id, argv, keep_manifest): runs dbt in the host itself (deps, parse, ls: sequential, read-only steps);
    its output is captured and relayed when it ends; keep_manifest keeps what a parse returns for the workers.
  - "fork" (id, argv, share?): starts a worker that runs dbtRunner(manifest=<the parsed one>).invoke(argv), its
    stdout/stderr streamed live; with "share" (ShareSpec) it is one of several invocations of one run (SharedRun),
    and with the share's "pool" (PoolSpec) it takes the run's ready nodes from one pool, node by node (WorkPool).
  - "notify" (id, done, dropped?): final statuses of other invocations' nodes, and relations their caches dropped,
    for worker id's control pipe.
  - "signal" (id, sig: "INT" | "KILL"): interrupts or kills worker id.
  - "fork_check" (id): whether forking is safe now; answered by a "fork_check" message.
  - "shutdown": interrupts what still runs, then exits.
- stdout: frames (FrameKind). Header: kind (1 byte: b"M" a JSON message, b"O"/b"E" stdout/stderr bytes of an
  invocation, b"N" a worker's notices: one JSON Notice per line), id (uint32: the invocation id; 0 for the host),
  payload length (uint32); then the payload. Messages (Message), told apart by "event": "ready" or "failed" (id 0:
  dbt imported or not), "started" (a worker's pid), "exit" (every invocation ends with one: code, signal), "fork_check"
  (ok, why, gate), "error" (an unknown request).
- a worker's control pipe (host -> worker): "<0|1|2> <unique_id>" lines, every final status of the run's other
  invocations (PeerStatus: 0 it succeeded, 1 it blocks downstream, 2 neither, a model with on_error: continue that
  failed), START_UID among them once the run's on-run-start has run (1: it failed); "D <json>" lines: relations
  another worker's cache dropped ([[database, schema, identifier], ...]: a `drop ... cascade` took dependent views
  with it).
- stderr: the host's own diagnostics, plain text.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import queue as queue_module
import select
import signal
import struct
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime
from typing import Any, Callable, Dict, List, Literal, Optional, Set, Tuple, TypedDict, Union, cast, get_args

HEADER = struct.Struct(">cII")
FrameKind = Literal[b"M", b"O", b"E", b"N"]
# Fault injection for the action's fault tests (faults that real dbt cannot be made to produce on purpose):
# PARALLEL_DBT_FAULT=drop-status (the host loses the first status it should forward of each node, to each worker),
# control-thread (a worker's control thread dies on its first read), deaf (a worker ignores every node status).
FAULT = os.environ.get("PARALLEL_DBT_FAULT", "")
READ_SIZE = 65536
PR_SET_PDEATHSIG = 1

# ---- the protocol's shapes (src/dbt/host-protocol.ts) ---------------------------------------------------------------
# Keys that may be missing sit in a `total=False` subclass (NotRequired needs Python 3.11; dbt 1.8 runs on 3.8).

PeerStatus = Literal[0, 1, 2]
"""Another invocation's final status on the control pipe: 0 succeeded, 1 blocks downstream, 2 neither."""
RelationKey = Tuple[Optional[str], str, str]
"""A relation as a worker's cache keys it: [database, schema, identifier] (a JSON array)."""


class _ShareSpec(TypedDict):
    nodes: List[str]
    start: Literal["run", "wait", "skip"]
    end: Literal["run", "skip"]
    known: List[Tuple[str, PeerStatus]]


class PoolSpec(TypedDict):
    """Workers that take the run's ready nodes from one pool (WorkPool): the folder where a node is claimed, the name
    of this worker's claims log in it, this worker's rank among the run's `workers`, the run's node slots shared by
    all of them (0: each worker runs up to its own threads), and how many take nodes from the start (the others join
    when the active ones are CPU-bound)."""

    claims: str
    worker: str
    rank: int
    workers: int
    slots: int
    active: int


class ShareSpec(_ShareSpec, total=False):
    """A worker's part in a run of several invocations (SharedRun; TypeScript: WorkerShare)."""

    results: str
    waits_for: Dict[str, List[str]]
    pool: PoolSpec


class _InvokeRequest(TypedDict):
    op: Literal["invoke"]
    argv: List[str]
    keep_manifest: bool
    id: int


class StateAhead(TypedDict):
    """What a PreviousState is made of (dbt's task: the --state folder, its --target-path, the project's folder), and
    the folder the reader writes into (the action's own, removed by its next run)."""

    state: str
    target: str
    project_root: str
    dir: str


class InvokeRequest(_InvokeRequest, total=False):
    """link_for: the command the workers will run; after answering a kept parse, the host links its graph for them.
    state_ahead: the selection's state an `ls` after this parse will read (StateReadAhead reads it meanwhile)."""

    link_for: str
    state_ahead: StateAhead


class _ForkRequest(TypedDict):
    op: Literal["fork"]
    argv: List[str]
    id: int


class ForkRequest(_ForkRequest, total=False):
    share: ShareSpec


class _NotifyRequest(TypedDict):
    op: Literal["notify"]
    id: int
    done: List[Tuple[str, PeerStatus]]


class NotifyRequest(_NotifyRequest, total=False):
    dropped: List[RelationKey]


class SignalRequest(TypedDict):
    op: Literal["signal"]
    id: int
    sig: Literal["INT", "KILL"]


class ForkCheckRequest(TypedDict):
    op: Literal["fork_check"]
    id: int


class ShutdownRequest(TypedDict):
    op: Literal["shutdown"]


Request = Union[InvokeRequest, ForkRequest, NotifyRequest, SignalRequest, ForkCheckRequest, ShutdownRequest]
Op = Literal["invoke", "fork", "notify", "signal", "fork_check", "shutdown"]
OPS = frozenset(get_args(Op))


class ProfileFacts(TypedDict, total=False):
    """What the host's parse learnt of the profile: threads and adapter type, a DuckDB path, a warehouse host."""

    threads: int
    adapter_type: str
    path: str
    host: str
    error: str


class ReadyMessage(TypedDict):
    event: Literal["ready"]
    pid: int
    seconds: float


class FailedMessage(TypedDict):
    event: Literal["failed"]
    error: str


class StartedMessage(TypedDict):
    event: Literal["started"]
    id: int
    pid: int


class _ExitMessage(TypedDict):
    event: Literal["exit"]
    id: int
    code: Optional[int]
    signal: Optional[str]


class ExitMessage(_ExitMessage, total=False):
    """An invoke adds its seconds and the profile facts of a kept parse; a refused fork says why in error; a forked
    worker's exit adds its CPU seconds (user + system, every thread, from the kernel's rusage when it was reaped)."""

    seconds: float
    cpu: float
    profile: ProfileFacts
    error: str


class ForkCheckMessage(TypedDict):
    event: Literal["fork_check"]
    id: int
    ok: bool
    why: str
    gate: bool


class ErrorMessage(TypedDict):
    event: Literal["error"]
    id: int
    error: str


Message = Union[ReadyMessage, FailedMessage, StartedMessage, ExitMessage, ForkCheckMessage, ErrorMessage]


class StartedNotice(TypedDict):
    notice: Literal["started"]
    ok: bool


class RunningNotice(TypedDict):
    """Past its start-up, its queue runs what is ready; cpu: the CPU seconds its start-up took (time.process_time: a
    forked child's times start at 0)."""

    notice: Literal["running"]
    cpu: float


class DroppedNotice(TypedDict):
    notice: Literal["dropped"]
    relations: List[RelationKey]


class _GrewNotice(TypedDict):
    notice: Literal["grew"]
    workers: int
    load: float


class GrewNotice(_GrewNotice, total=False):
    """A pooled worker measured its dbt CPU-bound (load: cores used) with ready nodes waiting: `workers` take nodes now.
    cpu_per_node: its CPU seconds since its first node over the nodes it has ended (when it has ended any)."""

    cpu_per_node: float


class MeasuredNotice(TypedDict):
    """A pooled worker's measure of its own dbt, each time the nodes it has ended reach MEASURE_FIRST_NODES (10), twice
    as many, and so on: those nodes, and its CPU seconds since its first node over them (the action predicts the run's
    makespan again from it: a first run's plan assumes a CPU per node that machines differ on by 2-3x)."""

    notice: Literal["measured"]
    nodes: int
    cpu_per_node: float


Notice = Union[StartedNotice, RunningNotice, DroppedNotice, GrewNotice, MeasuredNotice]


def notice_line(n: Notice) -> bytes:
    """A worker's notice as it writes it to its notice pipe (relayed in N frames)."""
    return (json.dumps(n) + "\n").encode("utf-8")


class StatusLine(TypedDict):
    kind: Literal["status"]
    uid: str
    status: PeerStatus


class DroppedLine(TypedDict):
    kind: Literal["dropped"]
    relations: List[RelationKey]


ControlLine = Union[StatusLine, DroppedLine]
PEER_STATUSES: Dict[bytes, PeerStatus] = {b"0": 0, b"1": 1, b"2": 2}


def control_lines(done: List[Tuple[str, PeerStatus]], dropped: Optional[List[RelationKey]]) -> bytes:
    """What a notify request writes to the worker's control pipe: the drops first, then one line per status."""
    data = "".join(f"{int(status)} {uid}\n" for uid, status in done).encode("utf-8")
    if dropped:
        data = f"D {json.dumps(dropped)}\n".encode("utf-8") + data
    return data


def parse_control_line(line: bytes) -> Optional[ControlLine]:
    """One control-pipe line (without its newline) as the worker reads it; None for what is neither kind."""
    status = PEER_STATUSES.get(line[:1])
    if len(line) > 2 and status is not None:
        return StatusLine(kind="status", uid=line[2:].decode("utf-8"), status=status)
    if line[:2] == b"D ":
        return DroppedLine(kind="dropped", relations=json.loads(line[2:]))
    return None



def write_all(fd: int, data: bytes) -> None:
    """Writes every byte to a pipe (os.write may take fewer than it is given)."""
    view = memoryview(data)
    while len(view) > 0:
        n = os.write(fd, view)
        view = view[n:]


class Channel:
    """The framed stdout towards the action."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, kind: FrameKind, ident: int, payload: bytes) -> None:
        write_all(self.fd, HEADER.pack(kind, ident, len(payload)) + payload)

    def message(self, ident: int, msg: Message) -> None:
        self.send(b"M", ident, json.dumps(msg).encode("utf-8"))


class Worker:
    """A forked dbt invocation and the read ends of its output pipes."""

    def __init__(self, ident: int, pid: int, out_fd: int, err_fd: int, ctl_fd: Optional[int]) -> None:
        self.ident = ident
        self.pid = pid
        self.ctl_fd = ctl_fd
        self.fds: Dict[int, FrameKind] = {out_fd: b"O", err_fd: b"E"}
        self.status: Optional[int] = None
        self.exited_at: Optional[float] = None
        self.cpu: Optional[float] = None


def exit_code_of(result: Any) -> int:
    """dbt's CLI exit codes from a dbtRunnerResult: 0 success, 1 handled failures, 2 an exception."""
    if getattr(result, "success", False):
        return 0
    return 2 if getattr(result, "exception", None) is not None else 1


def profile_facts() -> ProfileFacts:
    """The profile's threads and adapter type (and a DuckDB path), read the way dbt read them for the last invoke."""
    try:
        from dbt.config.runtime import load_profile
        from dbt.flags import get_flags

        flags = get_flags()
        profile = load_profile(str(flags.PROJECT_DIR), dict(flags.VARS or {}), getattr(flags, "PROFILE", None), getattr(flags, "TARGET", None))
        creds = profile.credentials
        facts = ProfileFacts(threads=int(profile.threads), adapter_type=str(creds.type))
        path, host = getattr(creds, "path", None), getattr(creds, "host", None)
        if isinstance(path, str):
            facts["path"] = path
        if isinstance(host, str):
            facts["host"] = host
        return facts
    except Exception as e:  # noqa: BLE001 - facts are a hint for the planner, never a reason to fail
        return ProfileFacts(error=f"{type(e).__name__}: {e}")


def gate_supported() -> bool:
    """Whether this dbt has the queue internals the Gate hooks into (dbt/graph/queue.py, task/runnable.py)."""
    try:
        import inspect

        from dbt.graph.queue import GraphQueue
        from dbt.task.runnable import GraphRunnableTask

        init = inspect.getsource(GraphQueue.__init__)
        mark_done = inspect.getsource(GraphQueue.mark_done)
        return (
            callable(getattr(GraphQueue, "_find_new_additions", None))
            and callable(getattr(GraphRunnableTask, "_runtime_initialize", None))
            and all(name in init for name in ("self.lock", "self.inner", "self.some_task_done", "self.queued"))
            and "self._find_new_additions" in mark_done
            and "_skipped_children" in inspect.getsource(GraphRunnableTask)
            and "self.job_queue.get()" in inspect.getsource(GraphRunnableTask.handle_job_queue)
            and "self.handle_job_queue(" in inspect.getsource(GraphRunnableTask.run_queue)
        )
    except Exception:  # noqa: BLE001 - unknown internals: the action runs ordered chunks instead
        return False


def reset_adapters() -> None:
    try:
        from dbt.adapters.factory import reset_adapters as reset

        reset()
    except Exception:  # noqa: BLE001 - an adapter that cannot reset must not stop the host
        pass


def foreign_threads() -> List[str]:
    """Native threads other than the main one that forking could break, described for the log.

    dbt's static parser (dbt_extractor, Rust) leaves an idle rayon pool behind after a cold parse: unnamed threads
    asleep on a futex, holding no lock, never used by a worker (a worker gets the parsed manifest and parses
    nothing). Those are tolerated; any other thread (named, running, or without dbt_extractor loaded) is not.
    """
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return []
    main = str(os.getpid())
    try:
        main_comm = open(f"/proc/self/task/{main}/comm").read().strip()
    except OSError:
        main_comm = ""
    out: List[str] = []
    for tid in tasks:
        if tid == main:
            continue
        try:
            comm = open(f"/proc/self/task/{tid}/comm").read().strip()
            state = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # the thread ended meanwhile
        idle_rayon = "dbt_extractor" in sys.modules and comm == main_comm and state == "S"
        if not idle_rayon:
            out.append(f"{comm or tid} ({state})")
    return out


def set_parent_death_signal(sig: int) -> None:
    """Linux: the worker gets `sig` when the host dies, so that no worker outlives a crashed host."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except Exception:  # noqa: BLE001 - not Linux: the action still signals workers by pid
        pass


class Gate:
    """Holds back nodes of this worker until their parents in other workers have finished (their final statuses
    come from the action through the control pipe), so that one dbt invocation per worker can cover nodes whose
    parents run elsewhere. Installed into dbt's GraphQueue (dbt/graph/queue.py, the same in dbt-core 1.8-1.11):
    a node is queued only when its parents inside the invocation are done (dbt's rule) and its parents outside
    are done (ours). A parent outside that failed, errored or was skipped makes dbt skip the node and everything
    downstream of it, as one `dbt build` would (the task's _skipped_children, as _mark_dependent_errors does).
    """

    def __init__(self, waits_for: Dict[str, List[str]]) -> None:
        self.lock = threading.Lock()
        self.pending: Dict[str, Set[str]] = {uid: set(ps) for uid, ps in waits_for.items() if ps}
        self.children: Dict[str, List[str]] = {}
        for uid, ps in self.pending.items():
            for p in ps:
                self.children.setdefault(p, []).append(uid)
        self.failed: Dict[str, str] = {}
        self.queue: Any = None
        self.task: Any = None
        self.original_find: Any = None

    def waiting(self, uid: str) -> bool:
        return bool(self.pending.get(uid))

    def settle(self, parent: str, blocks: bool) -> List[str]:
        """Records a parent's final status; returns the nodes it released. Caller holds self.lock (or is __init__)."""
        released: List[str] = []
        for child in self.children.pop(parent, []):
            pend = self.pending.get(child)
            if pend is None:
                continue
            pend.discard(parent)
            if blocks:
                self.failed.setdefault(child, parent)
            if not pend:
                del self.pending[child]
                released.append(child)
        return released

    def skip_failed(self, nodes: List[str]) -> None:
        """dbt skips a released node whose outside parent failed, and its descendants. Caller holds the queue lock."""
        if self.task is None:
            return
        for uid in nodes:
            if uid in self.failed:
                self.task._skipped_children[uid] = None
                for dep in self.task.graph.get_dependent_nodes(uid):
                    self.task._skipped_children[dep] = None

    def attach(self, task: Any) -> None:
        with self.lock:
            self.task = task
            self.queue = task.job_queue
            with self.queue.lock:
                self.skip_failed([uid for uid in self.failed if not self.waiting(uid)])
                self.original_find(self.queue, [uid for uid in self.queue.graph.nodes() if not self.waiting(uid)])

    def notify(self, parent: str, blocks: bool) -> None:
        with self.lock:
            released = self.settle(parent, blocks)
            queue = self.queue
            if queue is None or not released:
                return
            with queue.lock:
                self.skip_failed(released)
                self.original_find(queue, [uid for uid in released if uid in queue.graph])
                queue.some_task_done.notify_all()

    def install(self) -> None:
        from dbt.graph.queue import GraphQueue
        from dbt.task.runnable import GraphRunnableTask

        gate = self
        self.original_find = GraphQueue._find_new_additions
        original_init = GraphRunnableTask._runtime_initialize

        def find_new_additions(queue: Any, candidates: Any) -> None:
            gate.original_find(queue, [c for c in candidates if not gate.waiting(c)])

        def runtime_initialize(task: Any) -> None:
            original_init(task)
            gate.attach(task)

        setattr(GraphQueue, "_find_new_additions", find_new_additions)
        setattr(GraphRunnableTask, "_runtime_initialize", runtime_initialize)

    def release_all(self) -> None:
        """Settles every parent still awaited as blocking: dbt then skips what waited for it (never waits forever)."""
        with self.lock:
            parents = list(self.children)
        for parent in parents:
            self.notify(parent, True)

    def waited(self) -> Dict[str, List[str]]:
        with self.lock:
            return {uid: sorted(ps) for uid, ps in self.pending.items()}


class PoolSlots:
    """The run's node slots, shared by every worker of a pool: at most `count` nodes run at once across all of them (and,
    before the first node, at most `count` relation listings), so the warehouse sees no more connections than the budget
    allows, whichever worker holds them. One lock file per slot (fcntl.flock on a descriptor this worker opened): the
    kernel frees a dead worker's slots. Each slot is held by at most one thread of this worker (self.held)."""

    def __init__(self, folder: str, count: int) -> None:
        os.makedirs(folder, exist_ok=True)
        self.folder = folder
        self.count = max(1, count)
        self.fds: Dict[int, int] = {}
        self.held: Set[int] = set()
        self.lock = threading.Lock()
        self.next = 0

    def try_acquire(self) -> Optional[int]:
        """A free slot, held until release(); None when every slot is held (here or by another worker)."""
        import fcntl

        with self.lock:
            for i in range(self.count):
                slot = (self.next + i) % self.count
                if slot in self.held:
                    continue
                fd = self.fds.get(slot)
                if fd is None:
                    fd = os.open(os.path.join(self.folder, str(slot)), os.O_CREAT | os.O_RDWR, 0o644)
                    self.fds[slot] = fd
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue
                self.held.add(slot)
                self.next = (slot + 1) % self.count
                return slot
        return None

    def acquire(self) -> int:
        """Waits for a free slot."""
        while True:
            slot = self.try_acquire()
            if slot is not None:
                return slot
            time.sleep(SLOT_POLL_SECONDS)

    def release(self, slot: int) -> None:
        import fcntl

        with self.lock:
            if slot not in self.held:
                return
            self.held.discard(slot)
            fcntl.flock(self.fds[slot], fcntl.LOCK_UN)


SLOT_POLL_SECONDS = 0.01
"""How often a worker with a ready node in hand and no free slot of the run looks again."""


def env_number(name: str, default: float) -> float:
    """A non-negative number from the environment (the action's tests set these), else the default."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value >= 0 else default


GROW_LOAD = env_number("PARALLEL_DBT_POOL_GROW_LOAD", 0.8)
"""A worker whose dbt used at least this share of a core (its process's CPU time over wall time)..."""
GROW_WINDOW_SECONDS = env_number("PARALLEL_DBT_POOL_GROW_SECONDS", 1.0)
"""...for this long, while ready nodes waited for a free thread, is CPU-bound: one more worker joins the run's pool.
(The tests set both low, to make a small project's pool grow at once.)"""
MEASURE_FIRST_NODES = 10
"""A pooled worker tells its CPU per node when its ended nodes reach this many, then twice as many, and so on."""


class CpuMeter:
    """This process's CPU time over wall time (every thread's: time.process_time) across the last GROW_WINDOW_SECONDS."""

    def __init__(self) -> None:
        self.samples: List[Tuple[float, float]] = []
        self.reset()

    def reset(self) -> None:
        self.samples = [(time.monotonic(), time.process_time())]

    def load(self) -> Optional[float]:
        """Cores used over the last window; None until a whole window has been measured since the last reset."""
        now, cpu = time.monotonic(), time.process_time()
        if now - self.samples[-1][0] >= 0.05:
            self.samples.append((now, cpu))
        # Keep the newest sample at least a window old as the base.
        while len(self.samples) > 2 and now - self.samples[1][0] >= GROW_WINDOW_SECONDS:
            self.samples.pop(0)
        since, cpu0 = self.samples[0]
        if now - since < GROW_WINDOW_SECONDS:
            return None
        return (cpu - cpu0) / (now - since)


class WorkPool:
    """The workers of one run take its ready nodes from one pool, node by node, instead of owning fixed chunks.

    Every worker's dbt selects the whole run, so its GraphQueue holds every node and dbt's own rules say when each is
    ready. When the worker may start one more node, it takes the next ready node from its queue and claims it in the
    run's claims folder (os.open with O_CREAT | O_EXCL: exactly one worker wins, with no round trip). A node claimed
    elsewhere stays "in progress" in this queue until its final status arrives from the host; it is then marked done as
    if this worker had run it: its successors become ready, and a status that blocks makes dbt skip its descendants
    (as _mark_dependent_errors does). Each node runs in exactly one worker, whichever asked first, and only that
    worker's run_results hold it. Each claim is also appended to the worker's claims log, for the action to know what
    a worker that died had taken. Installed into dbt's task (dbt/task/runnable.py run_queue, the same in 1.8-1.12):
    the queue's get() returns the node this worker claimed, handle_job_queue returns at once when nothing is left
    that this worker could take, and mark_done frees the node's slot.

    How many workers take nodes follows what the run measures. The run has `slots` node slots in all (PoolSlots: what
    one dbt process with the whole budget would run at once); the first `active` workers take nodes from the start,
    the others wait, following the run's statuses. An active worker whose dbt keeps a core busy (GROW_LOAD over
    GROW_WINDOW_SECONDS) while ready nodes wait for it is CPU-bound: one more worker joins (a grow.<n> marker in the
    claims folder; notice "grew"), and the slots are shared among the active workers that have started (live.<rank>):
    rank i of A takes at most slots // A (+1 for the first slots % A). A run that waits on its warehouse keeps one
    process's shape.
    """

    def __init__(self, spec: PoolSpec) -> None:
        self.claims = str(spec["claims"])
        self.log_fd = os.open(os.path.join(self.claims, f"{spec['worker']}.claims"), os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
        self.rank = int(spec["rank"])
        self.workers = max(1, int(spec["workers"]))
        self.slot_count = max(0, int(spec["slots"]))
        self.active = max(1, min(self.workers, int(spec["active"])))
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        # Final statuses heard from other workers (True: it blocks downstream).
        self.final: Dict[str, bool] = {}
        # Taken from this queue, claimed elsewhere, final status not heard yet.
        self.waiting: Set[str] = set()
        # Taken from this queue, claimed by nobody yet (no slot was free, or this worker does not take nodes yet).
        self.hand: Dict[str, Any] = {}
        self.mine: Set[str] = set()
        # This worker's nodes that have not ended, with the run slot each holds (-1: none, the slots are per worker).
        self.inflight: Dict[str, int] = {}
        self.live: Set[int] = {0, self.rank}
        self.checked = 0.0
        self.deaf = False
        self.running = False
        # CPU seconds (time.process_time) when this worker asked for its first node, and its nodes ended since.
        self.running_cpu = 0.0
        self.ended_count = 0
        self.slots: Optional[PoolSlots] = PoolSlots(os.path.join(self.claims, "slots"), self.slot_count) if self.slot_count > 0 else None
        self.local_cap = max(1, self.slot_count)  # until attach() reads the threads of this worker's dbt
        self.meter = CpuMeter()
        self.notice: Optional[Callable[[Notice], None]] = None
        self.stash: List[Any] = []
        self.task: Any = None
        self.queue: Any = None
        self.original_get: Any = None
        self.original_mark_done: Any = None

    # ---- claims -------------------------------------------------------------------------------------------------
    def claim_path(self, uid: str) -> str:
        return os.path.join(self.claims, hashlib.sha1(uid.encode("utf-8")).hexdigest())

    def claim(self, uid: str) -> bool:
        try:
            fd = os.open(self.claim_path(uid), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        os.close(fd)
        with self.lock:
            self.mine.add(uid)
        write_all(self.log_fd, (uid + "\n").encode("utf-8"))
        return True

    # ---- how many workers take nodes ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reads the grow.<n> and live.<rank> markers again (at most every POOL_POLL_SECONDS / 2). Caller holds the lock."""
        now = time.monotonic()
        if now - self.checked < POOL_POLL_SECONDS / 2:
            return
        self.checked = now
        while self.active < self.workers and os.path.exists(os.path.join(self.claims, f"grow.{self.active}")):
            self.active += 1
        for r in range(1, self.active):
            if r not in self.live and os.path.exists(os.path.join(self.claims, f"live.{r}")):
                self.live.add(r)

    def cap(self) -> int:
        """How many nodes this worker may run at once now. Caller holds the lock."""
        if self.slots is None:
            return self.local_cap
        self.refresh()
        if self.rank >= self.active:
            return 0
        sharing = sorted(r for r in self.live if r < self.active)
        n, i = len(sharing), sharing.index(self.rank)
        # Never more than this worker's dbt has threads (the user may have fixed them per process).
        return min(self.local_cap, self.slot_count // n + (1 if i < self.slot_count % n else 0))

    def ready_count(self) -> int:
        """Nodes dbt's queue holds ready and not handed out (GraphQueue.inner, the same in 1.8-1.12)."""
        inner = getattr(self.queue, "inner", None)
        return int(inner.qsize()) if inner is not None else 0

    def ready_waits(self) -> bool:
        return len(self.hand) > 0 or self.ready_count() > 0

    def pressure(self) -> None:
        """This worker cannot start a ready node now: if its dbt keeps a core busy, one more worker joins. Caller holds
        the lock."""
        if self.slots is None or self.deaf or self.rank >= self.active or self.active >= self.workers or not self.ready_waits():
            return
        load = self.meter.load()
        if load is None or load < GROW_LOAD:
            return
        marker = os.path.join(self.claims, f"grow.{self.active}")
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            self.checked = 0.0
            return
        self.active += 1
        self.meter.reset()
        if self.notice is not None:
            grew = GrewNotice(notice="grew", workers=self.active, load=round(load, 2))
            if self.ended_count > 0:
                grew["cpu_per_node"] = round((time.process_time() - self.running_cpu) / self.ended_count, 5)
            self.notice(grew)

    # ---- what other workers did -----------------------------------------------------------------------------
    def remote(self, uid: str, blocks: bool) -> None:
        """Another worker's final status of a node (the control pipe; a worker's own come back too: ignored)."""
        with self.lock:
            if uid in self.mine or uid in self.final:
                return
            self.final[uid] = blocks
            if self.hand.pop(uid, None) is None:
                if uid not in self.waiting:
                    return
                self.waiting.discard(uid)
        self.finish(uid, blocks)

    def elsewhere(self, uid: str) -> None:
        """A node taken from this queue that another worker had claimed: done here once its status is known."""
        with self.lock:
            blocks = self.final.get(uid)
            if blocks is None and self.deaf:
                blocks = False  # this worker no longer hears statuses: it drops the node, others run what follows
            if blocks is None:
                self.waiting.add(uid)
                return
        self.finish(uid, blocks)

    def finish(self, uid: str, blocks: bool) -> None:
        if blocks and self.task is not None:
            with self.queue.lock:
                for dep in self.task.graph.get_dependent_nodes(uid):
                    self.task._skipped_children.setdefault(dep, None)
        self.original_mark_done(uid)

    def release_all(self) -> List[str]:
        """No status can arrive any more (the control pipe closed): this worker finishes what it runs and takes no
        other node. Every node left in its queue is dropped from it unclaimed (what it waited for, and what it has not
        taken yet), so its dbt ends instead of waiting forever, and the other workers, who still hear the statuses,
        claim and run those nodes. Returns the nodes it was waiting for."""
        with self.lock:
            self.deaf = True
            waiting = sorted(self.waiting)
            self.waiting.clear()
            held = sorted(self.hand)
            self.hand.clear()
            self.cond.notify_all()
        for uid in waiting + held:
            self.finish(uid, False)
        return waiting

    # ---- this worker's queue --------------------------------------------------------------------------------
    def take(self, block: bool) -> Any:
        """The next ready node of this queue: one in hand first, else the queue's next (None: none ready now)."""
        with self.lock:
            if self.hand:
                uid = next(iter(self.hand))
                return self.hand.pop(uid)
        try:
            return self.original_get(block, POOL_POLL_SECONDS if block else None)
        except queue_module.Empty:
            return None

    def sort(self, node: Any) -> None:
        """A node this worker cannot take now: waiting for its status if claimed elsewhere, else kept in hand."""
        uid = str(node.unique_id)
        if os.path.exists(self.claim_path(uid)):
            self.elsewhere(uid)
            return
        with self.lock:
            if uid in self.final:
                blocks = self.final[uid]
            else:
                self.hand[uid] = node
                return
        self.finish(uid, blocks)

    def follow(self) -> None:
        """A worker that takes no node yet still follows the run: what ended elsewhere is done in its queue too, what
        another worker claimed waits for its status, and the rest is kept in hand."""
        while self.ready_count() > 0:
            try:
                node = self.original_get(False)
            except queue_module.Empty:
                return
            self.sort(node)

    def next_node(self) -> Any:
        """The next node this worker runs, claimed; None when every node left is in progress (here or elsewhere)."""
        if not self.running:
            self.running = True
            self.running_cpu = time.process_time()
            self.meter.reset()
            if self.slots is not None:
                os.close(os.open(os.path.join(self.claims, f"live.{self.rank}"), os.O_CREAT | os.O_WRONLY, 0o644))
        while True:
            with self.lock:
                cap = self.cap()
                room = self.deaf or len(self.inflight) < cap
                if not room:
                    self.pressure()
            if not room:
                if cap == 0:
                    self.follow()
                if len(self.queue) == 0 and not self.hand:
                    return None
                with self.lock:
                    self.cond.wait(POOL_POLL_SECONDS / 4 if cap == 0 else POOL_POLL_SECONDS)
                continue
            node = self.take(True)
            if node is None:
                if len(self.queue) == 0 and not self.hand:
                    return None
                continue
            uid = str(node.unique_id)
            if self.deaf:
                self.elsewhere(uid)
                continue
            slot = -1
            if self.slots is not None:
                got = self.slots.try_acquire()
                if got is None:
                    self.sort(node)
                    with self.lock:
                        self.pressure()
                    time.sleep(SLOT_POLL_SECONDS)
                    continue
                slot = got
            if self.claim(uid):
                with self.lock:
                    self.inflight[uid] = slot
                return node
            if self.slots is not None:
                self.slots.release(slot)
            self.elsewhere(uid)

    def ended(self, uid: str) -> None:
        """mark_done of a node: this worker's own frees its slot (and at MEASURE_FIRST_NODES × 2^k of them, it tells its
        CPU per node)."""
        measure: Optional[MeasuredNotice] = None
        with self.lock:
            slot = self.inflight.pop(uid, None)
            if slot is not None:
                self.ended_count += 1
                n = self.ended_count
                k = n // MEASURE_FIRST_NODES
                if n % MEASURE_FIRST_NODES == 0 and k >= 1 and k & (k - 1) == 0:  # 10, 20, 40, 80, ...
                    cpu = (time.process_time() - self.running_cpu) / n
                    measure = MeasuredNotice(notice="measured", nodes=n, cpu_per_node=round(cpu, 5))
            self.cond.notify_all()
        if slot is not None and slot >= 0 and self.slots is not None:
            self.slots.release(slot)
        if measure is not None and self.notice is not None:
            self.notice(measure)

    def attach(self, task: Any) -> None:
        pool = self
        self.task = task
        self.queue = task.job_queue
        self.local_cap = max(1, int(getattr(task.config, "threads", 1) or 1))
        self.original_get = self.queue.get
        self.original_mark_done = self.queue.mark_done
        original_handle = task.handle_job_queue

        def get(block: bool = True, timeout: Optional[float] = None) -> Any:
            return pool.stash.pop() if pool.stash else pool.original_get(block, timeout)

        def mark_done(node_id: str) -> None:
            pool.original_mark_done(node_id)
            pool.ended(node_id)

        def handle_job_queue(workers: Any, callback: Any) -> None:
            node = pool.next_node()
            if node is None:
                return  # run_queue's loop finds its queue empty and waits for what is in progress
            pool.stash.append(node)
            original_handle(workers, callback)

        self.queue.get = get
        self.queue.mark_done = mark_done
        task.handle_job_queue = handle_job_queue
        self.limit_listings(task)

    def limit_listings(self, task: Any) -> None:
        """Before its first node, a worker lists the run's schemas for its relation cache, in up to `threads` threads
        at once, each on its own connection: each listing holds a run slot, so that the workers starting while others
        run nodes stay within the budget too. (Later listings happen inside a node's thread, on its slot.)"""
        slots = self.slots
        if slots is None:
            return
        try:
            from dbt.adapters.factory import get_adapter

            adapter = get_adapter(task.config)
        except Exception:  # noqa: BLE001 - without the adapter, listings are not limited
            return
        original_list = adapter.list_relations_without_caching
        pool = self

        def list_relations_without_caching(schema_relation: Any) -> Any:
            if pool.running:
                return original_list(schema_relation)
            slot = slots.acquire()
            try:
                return original_list(schema_relation)
            finally:
                slots.release(slot)

        adapter.list_relations_without_caching = list_relations_without_caching

    def install(self) -> None:
        from dbt.task.runnable import GraphRunnableTask

        pool = self
        original_init = GraphRunnableTask._runtime_initialize

        def runtime_initialize(task: Any) -> None:
            original_init(task)
            pool.attach(task)

        setattr(GraphRunnableTask, "_runtime_initialize", runtime_initialize)


POOL_POLL_SECONDS = 0.2
"""How often a worker waiting for a ready node checks whether any is left (the last ones may end elsewhere)."""


START_UID = "parallel-dbt:on-run-start"
"""The pseudo node whose status says that the run's on-run-start has run (1: it failed)."""


def relation_type_of(node: Any) -> Optional[str]:
    """The relation type a built node leaves in the warehouse, as the adapter's cache records it; None if unknown."""
    resource = str(getattr(node, "resource_type", ""))
    materialized = str(getattr(getattr(node, "config", None), "materialized", "") or "")
    if resource in ("seed", "snapshot") or materialized in ("table", "incremental", "snapshot", "seed"):
        return "table"
    if materialized in ("view", "materialized_view"):
        return materialized
    return None


def parse_time(value: Any) -> Any:
    if not isinstance(value, str) or value == "":
        return None
    try:
        return datetime.fromisoformat(value.rstrip("Z"))
    except ValueError:
        return None


class SharedRun:
    """What the forked workers of one run share, so that together they behave as one dbt invocation (DBT-FACTS §16).

    - Relations: a node another worker built is added to this worker's relation cache (once its cache exists, for a
      schema it holds), so that ref() under --defer and every macro that asks whether a relation exists
      (adapter.get_relation, load_relation: dbt_utils' get_column_values, star, ...) see it, as the one process
      that built it would.
    - Selected resources: dbt's `selected_resources` (favor-state's test in ref(), the Jinja variable) holds the
      run's whole selection, not this worker's share of it.
    - on-run-start: the "run" worker creates the schemas of the whole run and runs the hooks, then tells the host
      (notice "started"); "wait" workers hold their own before_run until START_UID arrives and skip the hooks
      (their schemas exist by then: no concurrent CREATE SCHEMA); "skip" workers start after it ran.
    - on-run-end: chunk workers skip it ("skip"); one end-only invocation ("run" with a results file) runs no node
      and gives the hooks the results of the whole run, after every chunk.
    """

    def __init__(self, spec: ShareSpec, gate: Optional[Gate], notices_fd: int, pool: Optional[WorkPool] = None) -> None:
        self.pool = pool
        self.run_nodes = frozenset(str(u) for u in spec.get("nodes", []))
        self.start = str(spec.get("start", "run"))
        self.end = str(spec.get("end", "run"))
        results = spec.get("results")
        self.results_path: Optional[str] = str(results) if results else None
        self.gate = gate
        self.notices_fd = notices_fd
        # Notices come from dbt's node threads (dropped), its main thread (grew) and mark_done (measured): one line at a
        # time, as a line over the pipe's atomic size could be cut by another's write.
        self.notice_lock = threading.Lock()
        self.lock = threading.Lock()
        self.started = threading.Event()
        self.start_ok = True
        # What other workers built or dropped before this worker's cache existed, in the order heard: replayed onto the
        # cache once it is populated (a drop heard while the cache was being listed would otherwise be lost).
        self.heard: List[Tuple[str, Any]] = []
        self.adapter: Any = None
        self.config: Any = None
        self.manifest: Any = None
        # Set while this thread applies another worker's drops: those are not announced again.
        self.local = threading.local()

    # ---- what the host tells this worker ------------------------------------------------------------------
    def settle(self, uid: str, status: int) -> None:
        """A final status of another invocation (PeerStatus: 0 succeeded, 1 blocks downstream, 2 neither)."""
        if uid == START_UID:
            self.start_ok = status == 0
            self.started.set()
            return
        if FAULT == "deaf":
            return
        if status == 0:
            self.peer_built(uid)
        if self.gate is not None:
            self.gate.notify(uid, status == 1)
        if self.pool is not None:
            self.pool.remote(uid, status == 1)

    def listen(self, fd: int) -> None:
        """Reads "<0|1|2> <unique_id>" and "D <json>" lines until the pipe closes. If the pipe closes, or this thread
        fails, while something still waits, it is released as failed (dbt skips it) rather than left waiting forever."""

        def run() -> None:
            buffer = b""
            try:
                while True:
                    try:
                        data = os.read(fd, READ_SIZE)
                    except OSError:
                        data = b""
                    if not data:
                        break
                    if FAULT == "control-thread":
                        raise RuntimeError("fault injected: PARALLEL_DBT_FAULT=control-thread")
                    buffer += data
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        parsed = parse_control_line(line)
                        if parsed is None:
                            continue
                        if parsed["kind"] == "status":
                            self.settle(parsed["uid"], parsed["status"])
                        else:
                            self.peer_dropped(parsed["relations"])
                why = "the control pipe closed"
            except Exception as e:  # noqa: BLE001 - whatever broke, nothing may wait forever
                why = f"the control thread failed ({type(e).__name__}: {e})"
            self.release_all(why)

        threading.Thread(target=run, name="parallel-dbt-control", daemon=True).start()

    def release_all(self, why: str) -> None:
        waited = self.gate.waited() if self.gate is not None else {}
        if waited or not self.started.is_set():
            held = ", ".join(f"{uid} (waits for {', '.join(ps)})" for uid, ps in sorted(waited.items())[:5])
            sys.stderr.write(f"parallel-dbt: {why} while nodes waited{': ' + held if held else ''}; they are skipped.\n")
            sys.stderr.flush()
        if not self.started.is_set():
            self.start_ok = False
            self.started.set()
        if self.gate is not None:
            self.gate.release_all()
        if self.pool is not None:
            released = self.pool.release_all()
            shown = ", ".join(released[:5]) + (f" and {len(released) - 5} more" if len(released) > 5 else "")
            sys.stderr.write(
                f"parallel-dbt: {why}{f' while this worker waited for the status of {shown}' if released else ''}; "
                "it finishes what it runs and takes no other node: the other workers run the rest.\n"
            )
            sys.stderr.flush()

    # ---- relations built by other workers -----------------------------------------------------------------
    def peer_built(self, uid: str) -> None:
        with self.lock:
            if self.adapter is None:
                self.heard.append(("built", uid))
            else:
                self.cache_add(uid)

    def peer_dropped(self, relations: List[RelationKey]) -> None:
        """Another worker's cache dropped these (a `drop ... cascade` in its materialization took dependent views with
        it in the warehouse): this cache forgets them too, as the one process that ran the drop would have."""
        if FAULT == "deaf":
            return
        with self.lock:
            if self.adapter is None:
                # The cache may be being listed from the warehouse right now: the drop is applied once it exists.
                self.heard.append(("dropped", relations))
                return
            self.drop_cached(relations)

    def drop_cached(self, relations: List[RelationKey]) -> None:
        """Caller holds self.lock; the cache exists."""
        self.local.peer = True
        try:
            for database, schema, identifier in relations:
                self.adapter.cache.drop(self.adapter.Relation.create(database=database, schema=schema, identifier=identifier))
        except Exception as e:  # noqa: BLE001 - a cache that cannot follow is read from the database instead
            for database, schema, _ in relations:
                self.forget_schema(database, schema)
            sys.stderr.write(f"parallel-dbt: could not drop relations another worker dropped ({type(e).__name__}: {e}); their schemas are read from the database again\n")
        finally:
            self.local.peer = False

    def cache_ready(self, adapter: Any, config: Any, manifest: Any) -> None:
        """The worker's relation cache exists: what other workers built or dropped meanwhile is applied to it, in order."""
        with self.lock:
            self.adapter, self.config, self.manifest = adapter, config, manifest
            heard, self.heard = self.heard, []
            for kind, what in heard:
                if kind == "built":
                    self.cache_add(what)
                else:
                    self.drop_cached(what)

    def cache_add(self, uid: str) -> None:
        """Caller holds self.lock. Only schemas this worker's cache holds: for any other, dbt asks the database."""
        node = self.manifest.nodes.get(uid) if self.manifest is not None else None
        if node is None or not getattr(node, "is_relational", False) or getattr(node, "is_ephemeral_model", False):
            return
        relation: Any = None
        try:
            relation = self.adapter.Relation.create_from(self.config, node)
            if (relation.database, relation.schema) not in self.adapter.cache:
                return
            kind = relation_type_of(node)
            if kind is not None:
                # get_relation_type is the adapter's RelationType enum (a class attribute, not a method).
                relation = relation.incorporate(type=self.adapter.Relation.get_relation_type(kind))
            self.adapter.cache.add(relation)
        except Exception as e:  # noqa: BLE001 - what cannot be cached is looked up in the database instead
            forgotten = relation is not None and self.forget_schema(relation.database, relation.schema)
            sys.stderr.write(
                f"parallel-dbt: could not cache {uid} built by another worker ({type(e).__name__}: {e})"
                f"{'; its schema is read from the database again' if forgotten else ''}\n"
            )

    def forget_schema(self, database: Optional[str], schema: Optional[str]) -> bool:
        """Drops a schema from the cache's list of cached schemas: dbt's next lookup in it lists it from the database
        (adapters/base/impl.py list_relations) and caches that listing again."""
        schemas = getattr(self.adapter.cache, "schemas", None)
        if not isinstance(schemas, set):
            return False
        key = (database.lower() if database else database, schema.lower() if schema else schema)
        with self.adapter.cache.lock:
            schemas.discard(key)
        return True

    # ---- this worker's notices to the host ----------------------------------------------------------------
    def notice(self, n: Notice) -> None:
        line = notice_line(n)
        with self.notice_lock:
            try:
                write_all(self.notices_fd, line)
            except OSError:
                pass

    # ---- the results of the whole run, for the end-only invocation ----------------------------------------
    def load_results(self, manifest: Any) -> List[Any]:
        import dataclasses

        from dbt.artifacts.schemas.results import NodeStatus, TimingInfo
        from dbt.artifacts.schemas.run import RunResult

        with open(str(self.results_path), encoding="utf-8") as f:
            entries = json.load(f).get("results", [])
        out: List[Any] = []
        for e in entries:
            uid = str(e.get("unique_id", ""))
            node = None
            for where in ("nodes", "unit_tests", "functions"):
                node = getattr(manifest, where, {}).get(uid)
                if node is not None:
                    break
            if node is None:
                continue
            result = RunResult.from_node(node, NodeStatus(str(e.get("status"))), e.get("message"))
            timing = [TimingInfo(name=str(t.get("name")), started_at=parse_time(t.get("started_at")), completed_at=parse_time(t.get("completed_at"))) for t in e.get("timing") or []]
            out.append(dataclasses.replace(
                result, thread_id=str(e.get("thread_id") or "Thread-1"), execution_time=float(e.get("execution_time") or 0.0),
                adapter_response=dict(e.get("adapter_response") or {}), failures=e.get("failures"), timing=timing,
            ))
        return out

    # ---- the patches -----------------------------------------------------------------------------------------
    def install(self) -> None:
        from dbt import selected_resources
        from dbt.artifacts.schemas.results import RunStatus
        from dbt.task.run import RunTask
        from dbt.task.runnable import GraphRunnableTask

        share = self
        original_select = selected_resources.set_selected_resources
        original_populate = GraphRunnableTask.populate_adapter_cache
        original_before = RunTask.before_run
        original_hooks = RunTask.safe_run_hooks
        original_initialize = GraphRunnableTask._runtime_initialize
        from dbt.adapters.cache import RelationsCache

        original_remove = RelationsCache._remove_refs

        def remove_refs(cache: Any, keys: Any) -> None:
            keys = list(keys)
            original_remove(cache, keys)
            if keys and not getattr(share.local, "peer", False):
                share.notice(DroppedNotice(notice="dropped", relations=[(k.database, k.schema, k.identifier) for k in keys]))

        def set_selected_resources(selected: Any) -> None:
            original_select(set(selected) | share.run_nodes)

        def runtime_initialize(task: Any) -> None:
            original_initialize(task)
            # dbt 1.12 points a foreign key constraint at the deferred relation when its target is not selected
            # (compilation.py _compile_relation_for_foreign_key_constraint_to): the run's selection, not the chunk's.
            compiler = getattr(task, "compiler", None)
            if compiler is not None and isinstance(getattr(compiler, "selected_node_ids", None), set):
                compiler.selected_node_ids = set(compiler.selected_node_ids) | share.run_nodes

        def populate_adapter_cache(task: Any, adapter: Any, required_schemas: Any = None) -> None:
            original_populate(task, adapter, required_schemas)
            share.cache_ready(adapter, task.config, task.manifest)

        def before_run(task: Any, adapter: Any, selected_uids: Any) -> Any:
            if share.start == "run" and share.results_path is None:
                status = original_before(task, adapter, frozenset(selected_uids) | share.run_nodes)
                share.notice(StartedNotice(notice="started", ok=status is None or status == RunStatus.Success))
            else:
                if share.start == "wait":
                    while not share.started.wait(0.5):
                        pass
                status = original_before(task, adapter, selected_uids)
                # The run's on-run-start failed in another worker: as one dbt, this worker's nodes follow that status.
                if not share.start_ok:
                    status = RunStatus.Error
            share.notice(RunningNotice(notice="running", cpu=round(time.process_time(), 3)))
            return status

        def safe_run_hooks(task: Any, adapter: Any, hook_type: Any, extra_context: Any) -> Any:
            kind = str(getattr(hook_type, "value", hook_type))
            runs = share.start == "run" and share.results_path is None if kind == "on-run-start" else share.end == "run"
            if not runs:
                return RunStatus.Success
            return original_hooks(task, adapter, hook_type, extra_context)

        def execute_nodes(task: Any) -> Any:
            task.node_results.extend(share.load_results(task.manifest))
            return task.node_results

        setattr(selected_resources, "set_selected_resources", set_selected_resources)
        setattr(GraphRunnableTask, "populate_adapter_cache", populate_adapter_cache)
        setattr(GraphRunnableTask, "_runtime_initialize", runtime_initialize)
        setattr(RelationsCache, "_remove_refs", remove_refs)
        setattr(RunTask, "before_run", before_run)
        setattr(RunTask, "safe_run_hooks", safe_run_hooks)
        if self.results_path is not None:
            setattr(GraphRunnableTask, "execute_nodes", execute_nodes)


def shared_run_of(share: ShareSpec, notices_fd: int) -> SharedRun:
    """A worker's SharedRun from its fork request's share, the statuses known at the start settled (nothing installed)."""
    waits_for = share.get("waits_for")
    gate = Gate({str(u): [str(p) for p in ps] for u, ps in waits_for.items()}) if isinstance(waits_for, dict) else None
    pool_spec = share.get("pool")
    run = SharedRun(share, gate, notices_fd, WorkPool(pool_spec) if pool_spec is not None else None)
    if run.pool is not None:
        run.pool.notice = run.notice
    for uid, status in share.get("known", []):
        run.settle(str(uid), status)
    return run


# Python logging's level numbers of dbt's event levels, as dbt_common's send_to_logger picks the logger method.
EVENT_LEVELS = {"debug": 10, "test": 10, "info": 20, "warn": 30, "error": 40}


TEMPLATE_CACHE_ENTRIES = 4096
"""At most this many compiled templates are kept in a worker (the least recently used go first): a few MB."""


def cache_template_compiles() -> bool:
    """Jinja compiles the same template source again for every node that renders it: dbt calls Environment.from_string
    for each generic test's arguments ("{{ get_where_subquery(ref('orders')) }}", the same for every test of a model),
    for each test's "{{ test_not_null(**_dbt_generic_test_kwargs) }}", and so on, and from_string always compiles
    (only loader templates are cached). Compiling is a pure function of the source and the environment's compile
    settings, so its code object is kept here, keyed by both: what each template then renders is unchanged, as it
    runs with the context of the node that renders it. Not with DBT_MACRO_DEBUGGING (dbt then names each compile
    apart, for the debugger). Installed in the host before its parse (a generic test's arguments are one source for
    every test of a model, rendered at parse too); the workers inherit it with what the parse compiled. Says whether
    the cache is in place."""
    try:
        import jinja2
        import jinja2.utils
        from dbt_common.clients import jinja as dbt_jinja
    except Exception:  # noqa: BLE001 - no jinja2 to patch: templates compile as they did
        return False
    if getattr(dbt_jinja, "MACRO_DEBUGGING", False) or os.environ.get("DBT_MACRO_DEBUGGING"):
        return False
    original = jinja2.Environment.compile
    if getattr(original, "parallel_dbt_cached", False):
        return True
    from collections import OrderedDict

    cache: "OrderedDict[Tuple[Any, ...], Any]" = OrderedDict()
    lock = threading.Lock()

    def settings(env: Any) -> Tuple[Any, ...]:
        """What of an environment shapes the code it compiles (jinja's lexer key, the code generator, extensions)."""
        autoescape = env.autoescape if isinstance(env.autoescape, bool) else id(env.autoescape)
        return (
            type(env),
            env.code_generator_class,
            env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
            env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
            env.optimized, env.is_async, autoescape, id(env.finalize) if env.finalize is not None else None,
            tuple(sorted((name, type(ext)) for name, ext in env.extensions.items())),
        )

    def compile(self: Any, source: Any, name: Any = None, filename: Any = None, raw: bool = False, defer_init: bool = False) -> Any:
        if not isinstance(source, str):
            return original(self, source, name, filename, raw, defer_init)
        try:
            key: Tuple[Any, ...] = (settings(self), source, name, filename, raw, defer_init)
            hash(key)
        except Exception:  # noqa: BLE001 - an unhashable setting: compile as jinja does
            return original(self, source, name, filename, raw, defer_init)
        with lock:
            code = cache.get(key)
            if code is not None:
                cache.move_to_end(key)
                return code
        code = original(self, source, name, filename, raw, defer_init)
        with lock:
            cache[key] = code
            if len(cache) > TEMPLATE_CACHE_ENTRIES:
                cache.popitem(last=False)
        return code

    setattr(compile, "parallel_dbt_cached", True)
    # Jinja hides its own frames from template tracebacks; this one is as much its own.
    jinja2.utils.internal_code.add(compile.__code__)
    setattr(jinja2.Environment, "compile", compile)
    return True


SCHEMA_RACE_TRIES = 3
"""How many times a worker's dbt creates its schemas when another session keeps creating one of them at once."""


def schema_created_meanwhile(error: BaseException) -> bool:
    """Whether creating dbt's schemas failed because another session created one at the same time. dbt creates only
    the schemas it listed as missing (runnable.py create_schemas); two `create schema if not exists` of one name at
    once make PostgreSQL fail the second with a unique violation on pg_namespace ("Key (nspname)=(x) already
    exists"). The same words as src/dbt/errors.ts schemaCreatedMeanwhile, for the subprocess path."""
    cause = getattr(error, "__cause__", None)
    return (
        "already exists" in str(error).lower()
        or "pg_namespace_nspname_index" in str(error)  # the constraint's name, whatever the server's language
        or getattr(cause, "pgcode", None) == "23505"  # unique_violation, from psycopg2
    )


def retry_schema_races() -> bool:
    """Makes dbt list and create its schemas again when another session (a matrix shard on another runner, another
    check of the same PR) created one of them at the same time: listed again, it exists, and dbt goes on as if it
    had been there (the state `create schema if not exists` asks for). Says "note:" on stderr each time; any other
    failure, or the same one SCHEMA_RACE_TRIES times, is raised as before. Says whether it is in place."""
    try:
        from dbt.task.runnable import GraphRunnableTask
    except Exception:  # noqa: BLE001 - no task to patch: schemas are created as dbt does
        return False
    original = GraphRunnableTask.create_schemas
    if getattr(original, "parallel_dbt_retry", False):
        return True

    def create_schemas(task: Any, adapter: Any, required_schemas: Any) -> Any:
        for attempt in range(1, SCHEMA_RACE_TRIES + 1):
            try:
                return original(task, adapter, required_schemas)
            except Exception as e:  # noqa: BLE001 - re-raised unless it is the race
                if attempt >= SCHEMA_RACE_TRIES or not schema_created_meanwhile(e):
                    raise
                said = " ".join(str(e).split())
                sys.stderr.write(
                    f"parallel-dbt: note: another session created a schema at the same time as this dbt ({said}); "
                    f"its schemas were listed and created again\n"
                )
                sys.stderr.flush()
        return None

    setattr(create_schemas, "parallel_dbt_retry", True)
    setattr(GraphRunnableTask, "create_schemas", create_schemas)
    return True


VALIDATION_MEMO_ENTRIES = 4096
"""At most this many validated values are kept (then the memo starts again): configs, a few KB each."""
VALIDATION_MEMO_TRIES = 64
"""A class whose first this many values were all new (whole nodes: each has its own name and path) is validated as
dbt does from then on, without building a key for it."""


class Unkeyable(Exception):
    """A value of a type value_key does not take: validated as dbt does."""


def value_key(value: Any, depth: int = 0) -> Any:
    """A hashable key for a JSON-like value that tells apart whatever JSON Schema validation tells apart: each value's
    exact type goes with it (1, 1.0 and True differ; a tuple is no JSON array to jsonschema), dict items keep their
    order. str subclasses (dbt's Severity, validated strings) are keyed by their type and text. Any other type raises
    Unkeyable."""
    t = type(value)
    if value is None or t is str or t is int or t is float or t is bool:
        return (t, value)
    if depth > 64:
        raise Unkeyable()
    if t is dict:
        return (dict, tuple((value_key(k, depth + 1), value_key(v, depth + 1)) for k, v in value.items()))
    if t is list or t is tuple:
        return (t, tuple(value_key(v, depth + 1) for v in value))
    if isinstance(value, str):
        return (t, str.__str__(value))
    raise Unkeyable()


def memoize_validation() -> bool:
    """dbt checks each node's config against its class's JSON schema (dbt_common dbtClassMixin.validate: jsonschema,
    Draft 7) as it parses it, and most configs are equal: every test of a project has the same one. That check is a
    pure function of the class and the value (the schema is built once per class), so a value that passed once passes
    again: the passes are kept here, by class and value_key. A failure is not kept: dbt raises its own error as
    before. Installed in the host before its parse (the workers inherit it). Says whether the memo is in place."""
    try:
        from dbt_common.dataclass_schema import dbtClassMixin
    except Exception:  # noqa: BLE001 - another dbt_common: validation as it is
        return False
    original = dbtClassMixin.__dict__.get("validate")
    check = getattr(original, "__func__", None)
    if not isinstance(original, classmethod) or not callable(check):
        return False
    if getattr(check, "parallel_dbt_memo", False):
        return True
    passed: Set[Tuple[Any, Any]] = set()
    counts: Dict[Any, List[int]] = {}  # class -> [values seen, values seen before]
    lock = threading.Lock()

    def validate(cls: Any, data: Any) -> None:
        seen = counts.get(cls)
        if seen is not None and seen[1] == 0 and seen[0] >= VALIDATION_MEMO_TRIES:
            return cast(None, check(cls, data))
        try:
            entry = (cls, value_key(data))
        except Unkeyable:
            return cast(None, check(cls, data))
        with lock:
            seen = counts.setdefault(cls, [0, 0])
            seen[0] += 1
            if entry in passed:
                seen[1] += 1
                return None
        check(cls, data)
        with lock:
            if len(passed) >= VALIDATION_MEMO_ENTRIES:
                passed.clear()
            passed.add(entry)
        return None

    setattr(validate, "parallel_dbt_memo", True)
    setattr(dbtClassMixin, "validate", classmethod(validate))
    return True


def scan_secrets_quickly() -> bool:
    """Each dbt error object reads the whole environment for secrets to scrub from its message (dbt_common
    exceptions.base env_secrets, decoding every variable: ~100 us beside a GitHub runner's ~130 variables), and dbt
    builds one whenever it looks for a dispatched macro in a package the project lacks (PackageNotFoundForMacroError,
    caught by adapter.dispatch): ~6 per node as a project without macros of its own parses, ~4.5 per node as it runs.
    Here the same list is read from the environment's bytes, decoding only the variables named DBT_ENV_SECRET...,
    with os.environ's own decoder (~15 us). Checked against dbt's own function when installed, else dbt's is kept.
    Says whether the quick scan is in place."""
    try:
        from dbt_common.constants import SECRET_ENV_PREFIX
        from dbt_common.exceptions import base as exceptions_base
    except Exception:  # noqa: BLE001 - another dbt_common: its scan as it is
        return False
    original = getattr(exceptions_base, "env_secrets", None)
    if getattr(original, "parallel_dbt_quick", False):
        return True
    environ: Any = os.environ
    data = getattr(environ, "_data", None)
    decode = getattr(environ, "decodevalue", None)
    encode_key = getattr(environ, "encodekey", None)
    if not callable(original) or not isinstance(data, dict):
        return False
    if not callable(decode) or not callable(encode_key) or not isinstance(SECRET_ENV_PREFIX, str):
        return False
    prefix = encode_key(SECRET_ENV_PREFIX)
    if not isinstance(prefix, bytes):
        return False

    def env_secrets() -> List[str]:
        found = [decode(v) for k, v in data.items() if k.startswith(prefix)]
        return [v for v in found if v.strip()]

    try:
        same = bool(env_secrets() == original())
    except Exception:  # noqa: BLE001
        same = False
    if same:
        setattr(env_secrets, "parallel_dbt_quick", True)
        setattr(exceptions_base, "env_secrets", env_secrets)
    return same


PARSE_PROCESSES_MAX = 4
"""The SQL files of a project are parsed in at most this many processes (one per core the host may use)."""
PARSE_MIN_FILES = 200
"""Fewer SQL files than this are parsed in the host alone: a few forks cost more than they save (~0.3 s)."""
PARSE_REPORT: List[str] = []
"""What each parallel parse did (or why it parsed in one process), for the host's diagnostics."""


class ParsedFile(TypedDict):
    """What parsing one file did, in a child (parse_sql_in_processes), for the parent to do again in dbt's order."""

    file: Any
    """The file as it stood after its parse (SourceFile: checksum, env_vars, ...); its node list is rebuilt."""
    events: List[Tuple[Any, bytes, Tuple[Any, ...], Dict[str, Any]]]
    """The events its parse fired (debug, info, and warnings dbt does not raise as errors): the event's class, its
    protobuf message's bytes (dbt 1.8's messages do not pickle), and fire_event's other arguments; the host's dbt
    fires them again (silencing a warning as warn-error-options say, as it would have)."""
    env: List[Tuple[str, Any]]
    """Environment variables its parse read first (manifest.env_vars entries, in order)."""
    parsing_info: Dict[str, int]
    """What it added to manifest._parsing_info's counters (the static parser's)."""
    ops: List[Tuple[str, Any, Any]]
    """Its Manifest.add_node / add_disabled calls, in order: (method, node, test_from)."""
    appends: List[Tuple[str, str]]
    """Names it appended to other files' env_vars, in order: (file id, name). A macro that reads env_var() while a
    SQL file's node is named (generate_schema_name, dbt/context/providers.py GenerateNameContext) records the name on
    the macro's file, so that a partial parse re-parses what used it when the variable changes."""


class EnvVarAppends(list):  # type: ignore[type-arg]
    """A file's env_vars list in a parsing child: each append is also logged as (file id, name)."""

    def __init__(self, items: List[str], file_id: str, log: List[Tuple[str, str]]) -> None:
        super().__init__(items)
        self.file_id = file_id
        self.log = log

    def append(self, name: Any) -> None:
        self.log.append((self.file_id, name))
        super().append(name)


class ParseRefused(Exception):
    """A child met what it cannot hand on (a warning, a deprecation), or a child's parse failed: the host parses alone."""


def other_native_threads() -> int:
    """Threads of this process besides the main one, native ones included (dbt_extractor's rayon pool, which a forked
    child that parses would wait on forever: it is started by the first static parse in a process)."""
    try:
        return len(os.listdir("/proc/self/task")) - 1
    except OSError:
        return threading.active_count() - 1


def parse_processes() -> int:
    """How many processes parse a project's SQL files: PARALLEL_DBT_PARSE_PROCESSES, else one per core (at most 4)."""
    raw = os.environ.get("PARALLEL_DBT_PARSE_PROCESSES", "")
    try:
        return max(1, int(raw))
    except ValueError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, PARSE_PROCESSES_MAX))


def parse_sql_in_processes() -> bool:
    """dbt parses a project's SQL files (models, snapshots, analyses, singular tests) one after another, each a full
    Jinja render (~4 ms a file), while the runner's other cores idle. Here, on a full parse of at least
    PARSE_MIN_FILES such files, forked children parse a share each (every k-th file, in dbt's order), then dbt's own
    parse loop runs in the host with each file's parse replaced by what its child did: the same add_node /
    add_disabled calls in the same order (so dbt's own duplicate checks and node order hold), the file's record, the
    environment variables it read, the static parser's counters, and its events fired again (log lines, print(),
    warnings). A file's parse reads nothing another SQL file's parse wrote (refs are resolved after parsing). An
    error event, a warning dbt would raise as an error, a deprecation, or a child that fails, and the host parses
    every file itself, as dbt would: dbt then raises or warns exactly as it does alone. YAML files are parsed as
    before. Says whether it is in place."""
    try:
        from dbt.contracts.graph.manifest import Manifest
        from dbt.parser.analysis import AnalysisParser
        from dbt.parser.manifest import ManifestLoader
        from dbt.parser.models import ModelParser
        from dbt.parser.search import FileBlock
        from dbt.parser.singular_test import SingularTestParser
        from dbt.parser.snapshots import SnapshotParser
        from dbt_common.events.base_types import EventLevel
        from dbt_common.events.event_manager_client import get_event_manager
    except Exception:  # noqa: BLE001 - another dbt: it parses as it does
        return False
    if getattr(ManifestLoader.parse_project, "parallel_dbt", False):
        return True
    if not callable(getattr(Manifest, "add_node", None)) or not callable(getattr(Manifest, "add_disabled", None)):
        return False
    sql_parsers: List[Any] = [ModelParser, SnapshotParser, AnalysisParser, SingularTestParser]
    original = ManifestLoader.parse_project
    min_files = int(env_number("PARALLEL_DBT_PARSE_MIN_FILES", PARSE_MIN_FILES))

    def child(
        loader: Any, project: Any, classes: List[Any], mine: List[Tuple[str, str]], work: Set[str]
    ) -> Dict[str, ParsedFile]:
        import dbt.deprecations
        import dbt.tracking

        gc.freeze()
        # No anonymous-usage sample of a file a child parsed (the static parser's); the user stays (run_started_at).
        for name in [n for n in dir(dbt.tracking) if n.startswith("track_")]:
            setattr(dbt.tracking, name, lambda *a, **kw: None)
        events: List[Tuple[Any, bytes, Tuple[Any, ...], Dict[str, Any]]] = []
        refused: List[str] = []
        manager: Any = get_event_manager()

        def raises(e: Any) -> bool:
            try:
                return bool(manager.warn_error or manager.warn_error_options.errors(e))
            except Exception:  # noqa: BLE001 - cannot tell: as if it raised
                return True

        def fire_event(e: Any, *a: Any, **kw: Any) -> None:
            level = kw["level"] if "level" in kw else (a[0] if a else None)
            level = level if level is not None else e.level_tag()
            if level == EventLevel.ERROR:
                refused.append(f"{type(e).__name__} (an error)")
            elif (level == EventLevel.WARN or kw.get("force_warn_or_error_handling")) and raises(e):
                # dbt raises this warning as an error (--warn-error, warn-error-options) inside the file's parse.
                refused.append(f"{type(e).__name__} (a warning dbt raises as an error)")
            elif set(vars(e)) != {"pb_msg"}:
                refused.append(f"{type(e).__name__} (an event with more than its message)")
            else:
                events.append((type(e), e.pb_msg.SerializeToString(), a, kw))

        def deferred(e: Any, *a: Any, **kw: Any) -> None:
            refused.append(f"{type(e).__name__} (a deferred event)")

        def deprecation(name: Any, *a: Any, **kw: Any) -> None:
            refused.append(f"the deprecation {name}")

        manager.fire_event = fire_event
        if hasattr(manager, "fire_or_defer_event"):
            manager.fire_or_defer_event = deferred
        setattr(dbt.deprecations, "warn", deprecation)
        if hasattr(dbt.deprecations, "buffer"):
            setattr(dbt.deprecations, "buffer", deprecation)
        ops: List[Tuple[str, Any, Any]] = []
        add_node, add_disabled = Manifest.add_node, Manifest.add_disabled

        def record_node(m: Any, source_file: Any, node: Any, test_from: Any = None) -> None:
            ops.append(("add_node", node, test_from))
            add_node(m, source_file, node, test_from)

        def record_disabled(m: Any, source_file: Any, node: Any, test_from: Any = None) -> None:
            ops.append(("add_disabled", node, test_from))
            add_disabled(m, source_file, node, test_from)

        setattr(Manifest, "add_node", record_node)
        setattr(Manifest, "add_disabled", record_disabled)
        manifest = loader.manifest
        counters = manifest._parsing_info
        parsers = {c.__name__: c(project, manifest, loader.root_project) for c in classes}
        # The other files' records: a parse may append names to their env_vars (logged, handed on); anything else it
        # changed there, the host's dbt would not see, so the child refuses (checked against their pickled bytes).
        mine_ids = {f for _, f in mine}
        appends: List[Tuple[str, str]] = []
        others: Dict[str, Tuple[bytes, Optional[List[str]]]] = {}
        for fid, sf in manifest.files.items():
            if fid in mine_ids:
                continue
            env = getattr(sf, "env_vars", None)
            others[fid] = (pickle.dumps(sf, pickle.HIGHEST_PROTOCOL), list(env) if type(env) is list else None)
            if type(env) is list:
                sf.env_vars = EnvVarAppends(env, fid, appends)
        out: Dict[str, ParsedFile] = {}
        for name, file_id in mine:
            events.clear()
            ops.clear()
            appends.clear()
            env_before = set(manifest.env_vars)
            counted = dict(vars(counters))
            parsers[name].parse_file(FileBlock(manifest.files[file_id]))
            if refused:
                raise ParseRefused(f"{refused[0]} while parsing {file_id}")
            touched = sorted({fid for fid, _ in appends if fid in work})
            if touched:
                raise ParseRefused(f"parsing {file_id} recorded an environment variable on {touched[0]}, another SQL file")
            out[file_id] = ParsedFile(
                file=manifest.files[file_id],
                events=list(events),
                env=[(k, v) for k, v in manifest.env_vars.items() if k not in env_before],
                parsing_info={k: v - counted[k] for k, v in vars(counters).items() if v != counted.get(k)},
                ops=list(ops),
                appends=list(appends),
            )
        logged: Dict[str, List[str]] = {}
        for done in out.values():
            for fid, var in done["appends"]:
                logged.setdefault(fid, []).append(var)
        if set(manifest.files) - mine_ids != set(others):
            raise ParseRefused("parsing the SQL files added or removed other files' records")
        for fid, (before, env) in others.items():
            sf = manifest.files[fid]
            if env is not None:
                if list(sf.env_vars) != env + logged.get(fid, []):
                    raise ParseRefused(f"parsing the SQL files changed the environment variables recorded on {fid}")
                sf.env_vars = env
            if pickle.dumps(sf, pickle.HIGHEST_PROTOCOL) != before:
                raise ParseRefused(f"parsing the SQL files changed the record of {fid}")
        return out

    def in_children(loader: Any, project: Any, parser_files: Any, classes: List[Any], k: int) -> Dict[str, ParsedFile]:
        work = [(c.__name__, f) for c in classes for f in parser_files.get(c.__name__) or []]
        sys.stdout.flush()
        sys.stderr.flush()
        kids: Dict[int, int] = {}
        chunks: Dict[int, List[bytes]] = {}
        try:
            for i in range(k):
                r, w = os.pipe()
                try:
                    pid = os.fork()
                except OSError:
                    os.close(r)
                    os.close(w)
                    raise
                if pid == 0:
                    os.close(r)
                    code = 0
                    try:
                        signal.signal(signal.SIGTERM, signal.SIG_DFL)
                        set_parent_death_signal(signal.SIGKILL)
                        got = child(loader, project, classes, work[i::k], {f for _, f in work})
                        out = pickle.dumps(("ok", got), pickle.HIGHEST_PROTOCOL)
                    except BaseException as e:  # noqa: BLE001 - the host parses alone, and dbt says what is wrong
                        why = str(e) if isinstance(e, ParseRefused) else f"{type(e).__name__}: {e}"
                        out, code = pickle.dumps(("error", why)), 1
                    try:
                        write_all(w, out)
                        sys.stdout.flush()  # whatever a file's parse wrote there itself
                        sys.stderr.flush()
                    finally:
                        os._exit(code)
                os.close(w)
                kids[r] = pid
                chunks[r] = []
            reading = set(kids)
            while reading:
                ready, _, _ = select.select(list(reading), [], [])
                for fd in ready:
                    block = os.read(fd, 1 << 20)
                    if block:
                        chunks[fd].append(block)
                    else:
                        reading.discard(fd)
            merged: Dict[str, ParsedFile] = {}
            for fd, pid in list(kids.items()):
                _, status = os.waitpid(pid, 0)
                del kids[fd]
                kind, payload = pickle.loads(b"".join(chunks[fd]))
                if kind != "ok":
                    raise ParseRefused(str(payload))
                if status != 0:
                    raise ParseRefused(f"a parsing process ended with status {status}")
                merged.update(payload)
            if len(merged) != len(work):
                raise ParseRefused(f"{len(merged)} of {len(work)} files came back")
            return merged
        finally:
            for fd, pid in kids.items():
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except OSError:
                    pass
            for fd in chunks:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def replay(manifest: Any, file_id: str, done: ParsedFile) -> None:
        f = done["file"]
        f.nodes = []
        manifest.files[file_id] = f
        manager: Any = get_event_manager()
        for cls, data, a, kw in done["events"]:
            e = cls.__new__(cls)
            e.pb_msg = getattr(cls.PROTO_TYPES_MODULE, cls.__name__).FromString(data)
            manager.fire_event(e, *a, **kw)
        for key, value in done["env"]:
            manifest.env_vars[key] = value
        counters = manifest._parsing_info
        for key, n in done["parsing_info"].items():
            setattr(counters, key, getattr(counters, key) + n)
        for method, node, test_from in done["ops"]:
            getattr(manifest, method)(f, node, test_from)
        for fid, var in done["appends"]:
            manifest.files[fid].env_vars.append(var)

    def parse_project(self: Any, project: Any, parser_files: Any, parser_types: Any) -> None:
        classes = [c for c in parser_types if c in sql_parsers]
        count = sum(len(parser_files.get(c.__name__) or []) for c in classes)
        k = parse_processes()
        if self.partially_parsing or count < max(1, min_files) or k < 2:
            original(self, project, parser_files, parser_types)
            return
        name = getattr(project, "project_name", "?")
        if other_native_threads() > 0:
            PARSE_REPORT.append(f"{name}: {count} SQL files parsed in one process (other threads run: no fork)")
            original(self, project, parser_files, parser_types)
            return
        started = time.perf_counter()
        try:
            done = in_children(self, project, parser_files, classes, min(k, count))
        except Exception as e:  # noqa: BLE001 - dbt's own parse says what is wrong, as it would alone
            why = str(e) if isinstance(e, ParseRefused) else f"{type(e).__name__}: {e}"
            PARSE_REPORT.append(f"{name}: {count} SQL files parsed in one process after all ({why})")
            original(self, project, parser_files, parser_types)
            return
        parsed = time.perf_counter() - started
        saved = {c: c.__dict__.get("parse_file") for c in classes}

        def replaying(cls: Any) -> Any:
            parse_file = cls.parse_file

            def parse(parser: Any, block: Any, *a: Any, **kw: Any) -> Any:
                got = done.pop(block.file.file_id, None)
                if got is None:
                    return parse_file(parser, block, *a, **kw)
                replay(parser.manifest, block.file.file_id, got)
                return None

            return parse

        for c in classes:
            setattr(c, "parse_file", replaying(c))
        started = time.perf_counter()
        ended = " (dbt stopped there)"
        try:
            original(self, project, parser_files, parser_types)
            ended = ""
        finally:
            for c, f in saved.items():
                if f is None:
                    delattr(c, "parse_file")
                else:
                    setattr(c, "parse_file", f)
            PARSE_REPORT.append(
                f"{name}: {count} SQL files parsed in {min(k, count)} processes in {parsed:.2f} s; then dbt's loop over them and the pass's other files (seeds, docs) in {time.perf_counter() - started:.2f} s{ended}"
            )

    setattr(parse_project, "parallel_dbt", True)
    setattr(ManifestLoader, "parse_project", parse_project)
    return True


def install_parse_speedups() -> List[str]:
    """What the host installs before it parses (the workers inherit it): the same manifest for less CPU, or less wall
    time. Names what it installed; none with PARALLEL_DBT_PARSE_SPEEDUPS=off."""
    if os.environ.get("PARALLEL_DBT_PARSE_SPEEDUPS") == "off":
        return []
    installed = [
        ("validation memo", memoize_validation()),
        ("secrets read from the environment's bytes", scan_secrets_quickly()),
        ("template compile cache", cache_template_compiles()),
        (f"SQL files parsed in up to {parse_processes()} processes", parse_processes() > 1 and parse_sql_in_processes()),
    ]
    return [name for name, on in installed if on]


def lighten_event_logging() -> None:
    """In a worker: the same log lines (stdout JSON events, the debug dbt.log) for less CPU per node. A worker's dbt fires
    ~40 events per node; dbt_common renders each one for every logger, also for a logger that then drops it (the info
    stdout renders every debug event as JSON, ~170 us each), builds each event's header through protobuf's pure-Python
    ParseDict (~100 us), builds each event's own message through ParseDict too, and reads the whole environment for
    secrets for every line it writes. Here: a logger skips an event its level drops before rendering it; the header's
    fields are set directly (checked once against dbt's own function, else dbt's is kept); plain events are built by
    their message's constructor (construct_events_directly); the secrets are read from the environment once (a
    worker's does not change)."""
    try:
        from dbt_common.events import base_types, event_manager, functions, logger
    except Exception:  # noqa: BLE001 - another dbt_common: its logging as it is
        return
    write_line = getattr(logger._Logger, "write_line", None)
    if callable(write_line) and callable(getattr(logger, "_is_print_event", None)):

        def write_line_if_enabled(self: Any, msg: Any) -> None:
            python_logger = getattr(self, "_python_logger", None)
            levelno = EVENT_LEVELS.get(str(msg.info.level))
            if python_logger is not None and levelno is not None and not logger._is_print_event(msg) and not python_logger.isEnabledFor(levelno):
                return  # send_to_logger would have dropped the line: no need to render it
            write_line(self, msg)

        setattr(logger._Logger, "write_line", write_line_if_enabled)
    original_secrets = getattr(functions, "env_secrets", None)
    if callable(original_secrets):
        secrets: List[List[str]] = []

        def env_secrets() -> List[str]:
            if not secrets:
                secrets.append(list(original_secrets()))
            return secrets[0]

        setattr(functions, "env_secrets", env_secrets)
    original_msg = getattr(event_manager, "msg_from_base_event", None)
    if callable(original_msg) and same_event_header(original_msg, event_header, base_types):
        setattr(event_manager, "msg_from_base_event", lambda e, level=None: event_header(e, level, original_msg, base_types))
    construct_events_directly(base_types)


EVENT_CHECKS = 3
"""The first events of each class are built both ways and compared before the direct way is trusted for that class."""
DIRECT_EVENTS = [0]
"""How many events this process built directly (the action's tests read it)."""


def plain_value(value: Any) -> bool:
    """A value that the protobuf constructor and ParseDict read alike: None, str, numbers, and dicts and lists of them
    (None clears a field, or is a null in a Struct, both ways: checked on protobuf 5.29 and 6.33); no dates, decimals
    or other objects."""
    if value is None or isinstance(value, (str, int, float)):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_value(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(plain_value(v) for v in value)
    return False


def construct_events_directly(base_types: Any) -> None:
    """dbt_common builds every event's protobuf message with json_format.ParseDict (BaseEvent.__init__), ~100 us in pure
    Python where the message's own constructor takes ~10 us for the same dict (nested messages and Struct fields
    included). Here the constructor builds it when every value is plain (plain_value) and the class's first
    EVENT_CHECKS events came out byte-identical both ways; anything else (positional arguments, a value the
    constructor refuses, a class that differed once) goes through dbt's own __init__, errors and all."""
    base = getattr(base_types, "BaseEvent", None)
    original = getattr(base, "__init__", None)
    if base is None or not callable(original) or getattr(original, "parallel_dbt_direct", False):
        return
    checked: Dict[type, int] = {}  # class -> events that matched; -1: it differed once, dbt's way only

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        state = checked.get(cls, 0)
        msg_cls = getattr(self.PROTO_TYPES_MODULE, cls.__name__, None)
        if state < 0 or args or msg_cls is None:
            original(self, *args, **kwargs)
            return
        values = dict(kwargs)
        for key in ("base_msg", "msg"):
            if key in values:
                values[key] = str(values[key])
        if not all(plain_value(v) for v in values.values()):
            original(self, *args, **kwargs)
            return
        try:
            direct = msg_cls(**values)
        except Exception:  # noqa: BLE001 - the constructor refused a value: dbt's way decides
            original(self, *args, **kwargs)
            return
        if state < EVENT_CHECKS:
            original(self, *args, **kwargs)
            same = self.pb_msg.SerializeToString(deterministic=True) == direct.SerializeToString(deterministic=True)
            checked[cls] = state + 1 if same else -1
            return
        self.pb_msg = direct
        DIRECT_EVENTS[0] += 1

    setattr(init, "parallel_dbt_direct", True)
    setattr(base, "__init__", init)


def event_header(event: Any, level: Any, original: Any, base_types: Any) -> Any:
    """dbt_common's msg_from_base_event (events/base_types.py) without ParseDict: the same EventInfo fields, set in the
    same order from the same helpers. Anything unexpected goes to dbt's own function (which raises as dbt would)."""
    try:
        msg = getattr(event.PROTO_TYPES_MODULE, f"{type(event).__name__}Msg")()
        info = msg.info
        info.level = level.value if level else event.level_tag().value
        info.msg = event.message()
        info.invocation_id = base_types.get_invocation_id()
        info.extra.update(base_types.get_global_metadata_vars())
        set_timestamp(info.ts, base_types.get_json_string_utcnow())
        info.pid = base_types.get_pid()
        info.thread = base_types.get_thread_name()
        info.code = event.code()
        info.name = type(event).__name__
        msg.data.CopyFrom(event.pb_msg)
        return msg
    except Exception:  # noqa: BLE001
        return original(event, level=level)


def set_timestamp(ts: Any, stamp: str) -> None:
    """Timestamp.FromJsonString(stamp) for dbt's own stamps ("%Y-%m-%dT%H:%M:%S.%fZ", UTC) without its strptime (~20 us
    a line): datetime.fromisoformat reads the same seconds and microseconds. Any other form goes to FromJsonString."""
    if len(stamp) == 27 and stamp[10] == "T" and stamp[19] == "." and stamp.endswith("Z"):
        try:
            ts.FromDatetime(datetime.fromisoformat(stamp[:-1]))
            return
        except ValueError:
            pass
    ts.FromJsonString(stamp)


def same_event_header(original: Any, fast: Any, base_types: Any) -> bool:
    """Whether event_header builds the message dbt's function builds, for a probe event (its timestamp aside)."""
    try:
        from dbt_common.events.types import Note

        probe = Note(msg="parallel-dbt probe")
        a, b = original(probe, level=None), fast(probe, None, original, base_types)
        a.info.ClearField("ts")
        b.info.ClearField("ts")
        return bool(a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True))
    except Exception:  # noqa: BLE001
        return False


DBT_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "compile", "show", "list", "ls", "run-operation", "docs", "clone", "retry", "parse"})


def command_of(argv: List[str]) -> Optional[str]:
    """dbt's command in an argv: the first word that is one (global flags and their values come before it)."""
    return next((a for a in argv if a in DBT_COMMANDS), None)


class LinkedGraph:
    """dbt links the whole manifest's graph in every task it runs (Compiler.compile, the same in 1.8-1.12:
    Linker.link_graph, a summary of it, for build the test edges and a second summary, then write_graph pickles the
    graph with every node's dict): about 0.6 s of CPU per worker on 2,000 nodes, the same result in each. The host
    links it once for the kept manifest before it forks; in a worker, a Linker given that manifest object takes each
    result once (the graph objects are the worker's own copy-on-write pages) and dbt's compile runs as it is around
    them: its files, its "Found ..." line. Another manifest, a second compile in the same worker, or test edges made
    with other flags (use_fast_test_edges) go through dbt's own code."""

    def __init__(self, manifest: Any, test_edges: bool) -> None:
        from dbt.compilation import Linker
        from dbt.flags import get_flags

        self.manifest = manifest
        linker = Linker()
        linker.link_graph(manifest)
        self.linked: Any = linker.graph.copy() if test_edges else linker.graph
        self.summaries: Dict[int, Any] = {id(self.linked): linker.get_graph_summary(manifest)}
        self.pickles: Dict[int, bytes] = {}
        self.tested: Any = None
        self.handed = 0  # id() of the linked graph a worker's Linker took
        self.fast_edges = bool(getattr(get_flags(), "USE_FAST_TEST_EDGES", False))
        if test_edges:
            manifest.build_parent_and_child_maps()
            linker.add_test_edges(manifest)
            self.tested = linker.graph
            self.summaries[id(self.tested)] = linker.get_graph_summary(manifest)
        # Held for the worker's whole life: the lookups below go by id(), which a freed graph's successor could reuse.
        self.alive = [g for g in (self.linked, self.tested) if g is not None]
        # write_graph's bytes, made by dbt's own write_graph: only the graph a build or another command ends with.
        final = self.tested if test_edges else self.linked
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "graph.gpickle")
            linker.graph = final
            linker.write_graph(path, manifest)
            with open(path, "rb") as f:
                self.pickles[id(final)] = f.read()

    def install(self) -> None:
        from dbt import compilation
        from dbt.flags import get_flags

        linker_class = compilation.Linker
        original_link = linker_class.link_graph
        original_summary = linker_class.get_graph_summary
        original_edges = linker_class.add_test_edges
        original_write = linker_class.write_graph
        pre = self

        def link_graph(linker: Any, manifest: Any) -> None:
            if manifest is not pre.manifest or pre.linked is None:
                original_link(linker, manifest)
                return
            linker.graph, pre.linked = pre.linked, None
            pre.handed = id(linker.graph)

        def get_graph_summary(linker: Any, manifest: Any) -> Any:
            summary = pre.summaries.pop(id(linker.graph), None) if manifest is pre.manifest else None
            return summary if summary is not None else original_summary(linker, manifest)

        def add_test_edges(linker: Any, manifest: Any) -> None:
            fast = bool(getattr(get_flags(), "USE_FAST_TEST_EDGES", False))
            if manifest is not pre.manifest or pre.tested is None or fast != pre.fast_edges or id(linker.graph) != pre.handed:
                original_edges(linker, manifest)
                return
            linker.graph, pre.tested = pre.tested, None

        def write_graph(linker: Any, outfile: str, manifest: Any) -> None:
            data = pre.pickles.pop(id(linker.graph), None) if manifest is pre.manifest else None
            if data is None:
                original_write(linker, outfile, manifest)
                return
            with open(outfile, "wb") as f:
                f.write(data)

        linker_class.link_graph = link_graph
        linker_class.get_graph_summary = get_graph_summary
        linker_class.add_test_edges = add_test_edges
        linker_class.write_graph = write_graph


def defer_state_of(argv: List[str]) -> Optional[str]:
    """The --defer-state folder of a dbt argv, if any."""
    try:
        return argv[argv.index("--defer-state") + 1]
    except (ValueError, IndexError):
        return None


def share_previous_states(states: Dict[str, Any]) -> None:
    """In a worker: a task's PreviousState of a folder the host already loaded is that object (read-only here:
    defer merges from it), instead of every worker reading and converting the same manifest.json again."""
    if not states:
        return
    import dbt.task.runnable as runnable

    original = runnable.PreviousState

    def previous_state(state_path: Any, target_path: Any, project_root: Any) -> Any:
        loaded = states.get(str(state_path))
        return loaded if loaded is not None else original(state_path=state_path, target_path=target_path, project_root=project_root)

    setattr(runnable, "PreviousState", previous_state)


def capture_previous_states(states: Dict[str, Any], captured: Set[str], ready: Callable[[Any, Any, Any], Any]) -> None:
    """In the host: the PreviousState dbt loads for an invocation's --state (the action's `ls`, which resolves the
    selection, state:modified included) is kept, by its folder, for the workers' --defer-state of the same folder:
    the host then does not read and convert the same production manifest.json again before its first fork (about a
    second per 1,500 nodes, on every worker's way to its first node). dbt reads a PreviousState, never changes it
    (the state selectors compare against it; defer copies relations from it). `captured` names the folders kept
    so. `ready(state_path, target_path, project_root)` gives one already read (StateReadAhead.take), else None."""
    import dbt.task.runnable as runnable

    original = runnable.PreviousState
    if getattr(original, "parallel_dbt_capture", False):
        return

    def previous_state(state_path: Any, target_path: Any, project_root: Any) -> Any:
        loaded = ready(state_path, target_path, project_root)
        if loaded is None:
            loaded = original(state_path=state_path, target_path=target_path, project_root=project_root)
        key = str(state_path)
        if os.path.isabs(key) and key not in states and getattr(loaded, "manifest", None) is not None:
            states[key] = loaded
            captured.add(key)
        return loaded

    setattr(previous_state, "parallel_dbt_capture", True)
    setattr(runnable, "PreviousState", previous_state)


def state_folders_of(state_path: Any, target_path: Any, project_root: Any) -> Tuple[str, str]:
    """The folders a PreviousState of these arguments reads (the state's artifacts; the target's sources.json)."""
    root = str(project_root)
    return (os.path.normpath(os.path.join(root, str(state_path))), os.path.normpath(os.path.join(root, str(target_path))))


STATE_AHEAD_WAIT = 10.0
"""Seconds the `ls` waits for the state reader beyond the time the reader has already had; then dbt reads it."""


class StateReadAhead:
    """The selection's state (dbt's PreviousState: the production manifest.json read and converted, its
    run_results.json and sources.json), read in a process forked from the host once the parse has set its flags (the
    conversion reads the project's behaviour flags: dbt 1.12 upgrade_unrendered_config), on the core the parse
    leaves free (a saved partial parse keeps one busy), and handed to the `ls` after the parse: unpickled in about a
    fifth of the time reading it takes (0.7 s for 1,500 nodes here), which plain `dbt ls` spends after its parse.
    Used only for a PreviousState of the same folders, and not where the state is the target (dbt then warns,
    WarnStateTargetEqual: it reads it itself, as does any failure here). Reading fires no event (contracts/state.py's
    one is that warning); the reader drops any, rather than write into another invocation's log. The manifest
    travels as its dataclass fields, rebuilt with Manifest(**fields): dbt's own Manifest.__reduce_ex__ passes its
    fields by position, and in 1.8 / 1.11 those positions are off (fixtures arrives as None)."""

    def __init__(self, ahead: StateAhead) -> None:
        self.folders = state_folders_of(ahead["state"], ahead["target"], ahead["project_root"])
        self.started = time.time()
        # In a folder only this user can enter (mkdtemp: 0700), under the action's work dir (its next run removes
        # what a killed host left): what is unpickled here is what the reader wrote.
        self.folder = tempfile.mkdtemp(prefix="state-ahead-", dir=ahead["dir"])
        self.path = os.path.join(self.folder, "state.pickle")  # written whole (a rename) or not at all
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            self.pid = os.fork()
        except OSError:
            self.pid = 0
            self.remove()
            raise
        if self.pid == 0:  # the reader
            code = 1
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                # Nothing else the host holds (its channel, the invocation's saved stdout and stderr, log files) but
                # multiprocessing's resource tracker: a Manifest's lock registers its semaphore there.
                from multiprocessing import resource_tracker

                keep = getattr(getattr(resource_tracker, "_resource_tracker", None), "_fd", None)
                limit = os.sysconf("SC_OPEN_MAX")
                if isinstance(keep, int) and keep >= 3:
                    os.closerange(3, keep)
                    os.closerange(keep + 1, limit)
                else:
                    os.closerange(3, limit)
                set_parent_death_signal(signal.SIGKILL)
                import dataclasses
                from pathlib import Path

                from dbt.contracts.state import PreviousState
                from dbt_common.events.event_manager_client import cleanup_event_logger

                cleanup_event_logger()
                loaded = PreviousState(state_path=Path(ahead["state"]), target_path=Path(ahead["target"]), project_root=Path(ahead["project_root"]))
                manifest = loaded.manifest
                fields = None if manifest is None else {f.name: getattr(manifest, f.name) for f in dataclasses.fields(manifest) if f.name != "_lock"}
                loaded.manifest = None
                with open(self.path + ".part", "wb") as f:
                    pickle.dump((loaded, fields), f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(self.path + ".part", self.path)
                code = 0
            except BaseException:  # noqa: BLE001 - no file: the ls reads the state itself, and says what is wrong
                pass
            finally:
                os._exit(code)

    def take(self, state_path: Any, target_path: Any, project_root: Any) -> Tuple[Any, str]:
        """The state read ahead, if it is of these folders (then the reader is done with: waited for, at most as long
        again as it has had plus STATE_AHEAD_WAIT, and removed), and what happened, for the host's diagnostics."""
        if self.pid == 0 or str(state_path) == str(target_path):
            return None, ""
        if state_folders_of(state_path, target_path, project_root) != self.folders:
            return None, f"the state read ahead was of {self.folders}, not of the folders this invocation reads"
        t = time.time()
        done = self.wait(until=t + (t - self.started) + STATE_AHEAD_WAIT)
        waited = time.time() - t
        if not done:
            self.discard()
            return None, f"the state reader had not finished after {waited:.1f} s more: dbt reads the state"
        try:
            from dbt.contracts.graph.manifest import Manifest

            with open(self.path, "rb") as f:
                t = time.time()
                loaded, fields = pickle.load(f)
                loaded.manifest = None if fields is None else Manifest(**fields)
                unpickled = time.time() - t
        except Exception as e:  # noqa: BLE001 - none read ahead (the reader failed): dbt reads it itself
            return None, f"no state read ahead ({type(e).__name__}): dbt reads it"
        finally:
            self.remove()
        loaded.state_path, loaded.target_path, loaded.project_root = state_path, target_path, project_root
        return loaded, f"the selection's state {state_path}: read while the parse ran; waited {waited:.2f} s for it, unpickled in {unpickled:.2f} s"

    def wait(self, until: float) -> bool:
        """Waits for the reader until then; says whether it ended (it is reaped then)."""
        while True:
            try:
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid = self.pid
            if pid != 0:
                self.pid = 0
                return True
            if time.time() >= until:
                return False
            time.sleep(0.01)

    def remove(self) -> None:
        for path in (self.path, self.path + ".part"):
            try:
                os.unlink(path)
            except OSError:
                pass
        try:
            os.rmdir(self.folder)
        except OSError:
            pass

    def discard(self) -> None:
        """Stops the reader if it still runs (and reaps it), and removes what it wrote."""
        if self.pid != 0:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self.wait(until=float("inf"))
        self.remove()


class Host:
    def __init__(self, channel: Channel, diag_fd: int) -> None:
        self.channel = channel
        self.diag_fd = diag_fd
        self.manifest: Any = None
        self.workers: Dict[int, Worker] = {}
        self.pid = os.getpid()
        self.frozen = False
        self.dropped: Set[Tuple[int, str]] = set()
        # --defer-state folders loaded once here (dbt's PreviousState), shared copy-on-write by the workers.
        self.states: Dict[str, Any] = {}
        # Of those, the folders kept from the selection's own load (capture_previous_states), and those a fork used.
        self.states_captured: Set[str] = set()
        self.states_reused: Set[str] = set()
        # The kept manifest's graph, linked once for the workers (by whether it has build's test edges).
        self.graphs: Dict[bool, Optional[LinkedGraph]] = {}
        # The selection's state, being read while the host parses (InvokeRequest.state_ahead), and one asked for
        # whose invocation has not set its flags yet.
        self.ahead: Optional[StateReadAhead] = None
        self.ahead_asked: Optional[StateAhead] = None

    def diag(self, text: str) -> None:
        os.write(self.diag_fd, (text.rstrip("\n") + "\n").encode("utf-8", "replace"))

    # ---- in-process invocations (deps, parse, ls) ----------------------------------------------------------
    def invoke(self, ident: int, argv: List[str], keep_manifest: bool) -> None:
        from dbt.cli.main import dbtRunner

        started = time.time()
        with tempfile.TemporaryFile() as capture:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = (os.dup(1), os.dup(2))
            os.dup2(capture.fileno(), 1)
            os.dup2(capture.fileno(), 2)
            code = 2
            facts = ProfileFacts()
            try:
                try:
                    capture_previous_states(self.states, self.states_captured, self.state_read_ahead)
                except Exception as e:  # noqa: BLE001 - the workers then load the defer state as before
                    self.diag(f"could not keep the selection's state for the workers: {type(e).__name__}: {e}")
                runner = dbtRunner(manifest=self.manifest) if self.manifest is not None and not keep_manifest else dbtRunner()
                try:
                    result = runner.invoke(argv)
                finally:
                    for line in PARSE_REPORT:
                        self.diag(f"parse: {line}")
                    PARSE_REPORT.clear()
                code = exit_code_of(result)
                if keep_manifest and code == 0 and result.result is not None:
                    self.manifest = result.result
                    facts = profile_facts()
                if result.exception is not None and code == 2:
                    print(f"{type(result.exception).__name__}: {result.exception}", file=sys.stderr)
            except BaseException as e:  # noqa: BLE001 - reported as the invocation's failure
                print(f"{type(e).__name__}: {e}", file=sys.stderr)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
                reset_adapters()
            capture.seek(0)
            while True:
                block = capture.read(READ_SIZE)
                if not block:
                    break
                self.channel.send(b"O", ident, block)
        self.channel.message(ident, ExitMessage(event="exit", id=ident, code=code, signal=None, seconds=time.time() - started, profile=facts))

    def read_state_ahead(self, ahead: StateAhead) -> None:
        """Has the selection's state read in a forked process (StateReadAhead) once the invocation this request
        comes with (the parse) has set dbt's flags."""
        self.discard_state_ahead()
        try:
            import dbt.cli.requires as requires
        except Exception as e:  # noqa: BLE001 - the ls reads the state itself
            self.diag(f"could not read the selection's state ahead ({type(e).__name__}: {e}): the ls reads it")
            return
        self.ahead_asked = ahead
        original = requires.set_flags
        if getattr(original, "parallel_dbt_ahead", False):
            return
        host = self

        def set_flags(flags: Any) -> None:
            original(flags)
            asked, host.ahead_asked = host.ahead_asked, None
            if asked is not None:
                try:
                    host.start_state_ahead(asked)
                except Exception as e:  # noqa: BLE001 - reading ahead is optional: the parse goes on
                    host.diag(f"could not read the selection's state ahead ({type(e).__name__}: {e}): the ls reads it")

        setattr(set_flags, "parallel_dbt_ahead", True)
        setattr(requires, "set_flags", set_flags)

    def start_state_ahead(self, ahead: StateAhead) -> None:
        if threading.active_count() != 1 or foreign_threads():
            self.diag("the selection's state is read by the ls itself: the host runs other threads")
            return
        self.ahead = StateReadAhead(ahead)

    def state_read_ahead(self, state_path: Any, target_path: Any, project_root: Any) -> Any:
        """capture_previous_states' `ready`: the state read ahead of these folders, or None."""
        if self.ahead is None:
            return None
        loaded, said = self.ahead.take(state_path, target_path, project_root)
        if said:
            self.diag(said)
        if loaded is not None:
            self.ahead = None
        return loaded

    def discard_state_ahead(self) -> None:
        self.ahead_asked = None
        if self.ahead is not None:
            self.ahead.discard()
            self.ahead = None

    # ---- forked workers ------------------------------------------------------------------------------------
    def fork_check(self) -> Tuple[bool, str]:
        if self.manifest is None:
            return False, "the host has no parsed manifest"
        if threading.active_count() != 1:
            names = ", ".join(t.name for t in threading.enumerate() if t is not threading.main_thread())
            return False, f"the host runs Python threads besides its main one after parsing ({names}): a plugin started them, and forking would copy their locks"
        busy = foreign_threads()
        if busy:
            return False, f"the host runs {len(busy)} native thread(s) after parsing ({', '.join(busy)}): forking would be unsafe"
        return True, ""

    def fork(self, ident: int, argv: List[str], share: Optional[ShareSpec] = None) -> None:
        """Forks a worker running dbtRunner(manifest=...).invoke(argv). With `share` (a run of several invocations)
        the worker takes part in the run as SharedRun says, with a control pipe in and a notice pipe out."""
        ok, why = self.fork_check()
        if not ok:
            self.channel.message(ident, ExitMessage(event="exit", id=ident, code=2, signal=None, error=why))
            return
        self.discard_state_ahead()  # the selection's ls has taken it, or never will
        self.load_defer_state(argv)
        graph = self.linked_graph(argv)
        if not self.frozen:
            # Children share the parsed manifest copy-on-write; freezing keeps the collector off those pages.
            gc.collect()
            gc.freeze()
            self.frozen = True
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ctl_r, ctl_w = os.pipe() if share is not None else (-1, -1)
        note_r, note_w = os.pipe() if share is not None else (-1, -1)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 2
            try:
                for fd in (out_r, err_r, ctl_w, note_r):
                    if fd >= 0:
                        os.close(fd)
                for w in self.workers.values():
                    for fd in w.fds:
                        os.close(fd)
                    if w.ctl_fd is not None:
                        os.close(w.ctl_fd)
                os.close(self.channel.fd)
                os.close(self.diag_fd)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.close(devnull)
                os.dup2(out_w, 1)
                os.dup2(err_w, 2)
                os.close(out_w)
                os.close(err_w)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                # SIGTERM as SIGINT: dbt cancels its queries and writes what it has (KeyboardInterrupt).
                signal.signal(signal.SIGTERM, signal.default_int_handler)
                set_parent_death_signal(signal.SIGINT)
                if os.getppid() != self.pid:
                    os._exit(2)
                share_previous_states(self.states)
                if graph is not None:
                    graph.install()
                lighten_event_logging()
                cache_template_compiles()
                retry_schema_races()
                if share is not None:
                    run = shared_run_of(share, note_w)
                    if run.gate is not None:
                        run.gate.install()
                    if run.pool is not None:
                        run.pool.install()
                    run.install()
                    run.listen(ctl_r)
                from dbt.cli.main import dbtRunner

                result = dbtRunner(manifest=self.manifest).invoke(argv)
                code = exit_code_of(result)
            except BaseException:  # noqa: BLE001 - the worker must end with os._exit, whatever happened
                try:
                    traceback.print_exc()
                except BaseException:  # noqa: BLE001
                    pass
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    reset_adapters()
                except BaseException:  # noqa: BLE001
                    pass
                os._exit(code)
        os.close(out_w)
        os.close(err_w)
        if ctl_r >= 0:
            os.close(ctl_r)
        if note_w >= 0:
            os.close(note_w)
        worker = Worker(ident, pid, out_r, err_r, ctl_w if ctl_w >= 0 else None)
        if note_r >= 0:
            # Notices first: pump relays ready descriptors in this order, so a drop the worker announced reaches the
            # action before the result event it wrote after it (and so before the node's status reaches others).
            worker.fds = {note_r: b"N", **worker.fds}
        self.workers[ident] = worker
        self.channel.message(ident, StartedMessage(event="started", id=ident, pid=pid))

    def linked_graph(self, argv: List[str]) -> Optional[LinkedGraph]:
        """The kept manifest's graph for this argv's command, linked here once: after the kept parse when the action
        said which command its workers run (InvokeRequest.link_for), else at the first fork."""
        if os.environ.get("PARALLEL_DBT_LINK_ONCE") == "off":
            return None
        test_edges = command_of(argv) == "build"
        if test_edges not in self.graphs:
            try:
                started = time.time()
                self.graphs[test_edges] = LinkedGraph(self.manifest, test_edges)
                self.diag(f"linked the graph once for the workers ({'with' if test_edges else 'without'} build's test edges) in {time.time() - started:.2f} s")
            except Exception as e:  # noqa: BLE001 - each worker then links the graph itself, as dbt does
                self.graphs[test_edges] = None
                self.diag(f"could not link the graph once for the workers: {type(e).__name__}: {e}")
        # A graph each worker takes once: a fresh LinkedGraph object per fork would link again; the one here is
        # handed to every child, whose copy-on-write copy it consumes.
        return self.graphs[test_edges]

    def load_defer_state(self, argv: List[str]) -> None:
        """Loads the --defer-state folder as dbt's task would (contracts/state.py PreviousState), once for every
        worker: each would otherwise parse the production manifest.json again (about a second per 1,500 nodes)."""
        from pathlib import Path

        given = defer_state_of(argv)
        if given is None or not os.path.isabs(given):
            return
        path = str(Path(given))  # as dbt's option gives it to PreviousState (a Path: no trailing slash)
        if path in self.states:
            if path in self.states_captured and path not in self.states_reused:
                self.states_reused.add(path)
                self.diag(f"the defer state {path} is the one the selection loaded: not loaded again")
            return
        try:
            from dbt.contracts.state import PreviousState

            self.states[path] = PreviousState(state_path=Path(path), target_path=Path(path) / "parallel-dbt-unused", project_root=Path(path))
        except Exception as e:  # noqa: BLE001 - each worker then loads it itself, as dbt does
            self.diag(f"could not preload the defer state {path}: {type(e).__name__}: {e}")

    def signal_worker(self, ident: int, name: str) -> None:
        w = self.workers.get(ident)
        if w is None or w.status is not None:
            return
        try:
            os.kill(w.pid, signal.SIGKILL if name == "KILL" else signal.SIGINT)
        except ProcessLookupError:
            pass

    def pump(self, timeout: float) -> bool:
        """Relays worker output and reaps workers; returns False when stdin is closed."""
        fds = [0] + [fd for w in self.workers.values() for fd in w.fds]
        try:
            ready, _, _ = select.select(fds, [], [], timeout)
        except InterruptedError:
            ready = []
        alive = True
        for fd in ready:
            if fd == 0:
                alive = self.read_requests()
                continue
            self.relay(fd)
        self.reap()
        return alive

    def relay(self, fd: int) -> None:
        for w in self.workers.values():
            kind = w.fds.get(fd)
            if kind is None:
                continue
            try:
                data = os.read(fd, READ_SIZE)
            except OSError:
                data = b""
            if data:
                self.channel.send(kind, w.ident, data)
            else:
                os.close(fd)
                del w.fds[fd]
            return

    def reap(self) -> None:
        for w in list(self.workers.values()):
            if w.status is None:
                try:
                    pid, status, usage = os.wait4(w.pid, os.WNOHANG)
                except ChildProcessError:
                    pid, status, usage = w.pid, 0, None
                if pid == 0:
                    continue
                w.status = status
                w.exited_at = time.time()
                if usage is not None:
                    w.cpu = usage.ru_utime + usage.ru_stime
            # A worker's grandchild may keep a pipe open: wait a little for EOF, then stop relaying.
            if w.fds and w.exited_at is not None and time.time() - w.exited_at > 2.0:
                for fd in list(w.fds):
                    os.close(fd)
                w.fds.clear()
            if w.fds:
                continue
            status = w.status if w.status is not None else 0
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
            sig = signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else None
            exit_message = ExitMessage(event="exit", id=w.ident, code=code, signal=sig)
            if w.cpu is not None:
                exit_message["cpu"] = round(w.cpu, 3)
            self.channel.message(w.ident, exit_message)
            self.close_ctl(w)
            del self.workers[w.ident]

    def close_ctl(self, w: Worker) -> None:
        if w.ctl_fd is not None:
            try:
                os.close(w.ctl_fd)
            except OSError:
                pass
            w.ctl_fd = None

    def notify(self, ident: int, done: List[Tuple[str, PeerStatus]], dropped: Optional[List[RelationKey]] = None) -> None:
        """Forwards final statuses of other invocations' nodes (and START_UID) to a worker's control pipe."""
        w = self.workers.get(ident)
        if w is None or w.ctl_fd is None or w.status is not None:
            return
        if FAULT == "drop-status":
            kept = [(uid, status) for uid, status in done if (ident, str(uid)) in self.dropped]
            self.dropped.update((ident, str(uid)) for uid, _ in done)
            done = kept
        try:
            write_all(w.ctl_fd, control_lines(done, dropped))
        except OSError:
            self.close_ctl(w)

    # ---- requests ------------------------------------------------------------------------------------------
    buffer = b""

    def read_requests(self) -> bool:
        data = os.read(0, READ_SIZE)
        if not data:
            return False
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            if line.strip():
                self.handle(json.loads(line))
        return True

    def handle(self, raw: Dict[str, Any]) -> None:
        """One request line's JSON. Its fields are trusted to be the action's Request (the contract test checks both
        sides agree); an op this host does not know gets an error message."""
        if raw.get("op") not in OPS:
            ident = int(raw.get("id", 0))
            self.channel.message(ident, ErrorMessage(event="error", id=ident, error=f"unknown request {raw.get('op')!r}"))
            return
        req = cast(Request, raw)
        if req["op"] == "invoke":
            ahead = req.get("state_ahead")
            if ahead is not None:
                self.read_state_ahead(ahead)
            self.invoke(req["id"], req["argv"], req["keep_manifest"])
            self.ahead_asked = None  # its invocation did not get as far as its flags: not read ahead
            link_for = req.get("link_for")
            if req["keep_manifest"] and link_for and self.manifest is not None:
                # While the action plans: the workers' first request then finds the graph linked.
                self.linked_graph([link_for])
        elif req["op"] == "fork":
            self.fork(req["id"], req["argv"], req.get("share"))
        elif req["op"] == "notify":
            self.notify(req["id"], req["done"], req.get("dropped"))
        elif req["op"] == "signal":
            self.signal_worker(req["id"], req["sig"])
        elif req["op"] == "fork_check":
            ok, why = self.fork_check()
            self.channel.message(req["id"], ForkCheckMessage(event="fork_check", id=req["id"], ok=ok, why=why, gate=ok and gate_supported()))
        else:
            raise SystemExit(0)  # shutdown

    def stop_workers(self, grace: float) -> None:
        for w in self.workers.values():
            self.signal_worker(w.ident, "INT")
        deadline = time.time() + grace
        while self.workers and time.time() < deadline:
            self.reap_quietly()
            time.sleep(0.05)
        for w in list(self.workers.values()):
            self.signal_worker(w.ident, "KILL")
        while self.workers and time.time() < deadline + 2.0:
            self.reap_quietly()
            time.sleep(0.05)

    def reap_quietly(self) -> None:
        for w in list(self.workers.values()):
            try:
                pid, _ = os.waitpid(w.pid, os.WNOHANG)
            except ChildProcessError:
                pid = w.pid
            if pid != 0:
                for fd in w.fds:
                    os.close(fd)
                self.close_ctl(w)
                del self.workers[w.ident]


def main() -> int:
    # The framed channel gets its own descriptor; fd 1 and 2 then point elsewhere, so that nothing dbt prints
    # in the host can corrupt the frames.
    channel = Channel(os.dup(1))
    diag_fd = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    # SIGINT from a terminal reaches the whole process group: the workers handle their own; the host carries on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    host = Host(channel, diag_fd)
    terminating: List[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: terminating.append(True))
    try:
        started = time.time()
        from dbt.cli.main import dbtRunner  # noqa: F401 - the import is the point: the workers inherit it

        speedups = install_parse_speedups()
        if speedups:
            host.diag(f"parse speedups: {', '.join(speedups)}")
        channel.message(0, ReadyMessage(event="ready", pid=os.getpid(), seconds=time.time() - started))
    except BaseException as e:  # noqa: BLE001
        channel.message(0, FailedMessage(event="failed", error=f"{type(e).__name__}: {e}"))
        return 3
    code = 0
    try:
        while not terminating:
            if not host.pump(0.2):
                break
    except SystemExit as e:
        code = int(e.code or 0)
    except BaseException:  # noqa: BLE001
        host.diag(traceback.format_exc())
        code = 3
    finally:
        host.discard_state_ahead()
        host.stop_workers(5.0)
    return code


if __name__ == "__main__":
    sys.exit(main())
