"""worker_host.py's pool without dbt, for test/pool-python.test.ts: the run's node slots across real processes, and how
a WorkPool sizes itself (its share of the slots, when it asks for one more worker). Type-checked with worker_host.py
(mypy --strict). Each command prints one JSON object.

- `python3 pool_probe.py slots <folder> <count> <processes> <seconds>`: that many processes, each with 4 threads, take
  and give back the run's slots as fast as they can; every holder marks its slot with an O_EXCL file while it holds
  it, so a slot held twice at once is seen. Prints {"taken": n, "doubled": n, "most": n}.
- `python3 pool_probe.py dead <folder> <count>`: a child takes every slot and dies without giving them back; prints
  how many slots the parent can take then ({"free": n}).
- `python3 pool_probe.py sizing <folder>`: WorkPools of a run of 2 workers sharing 7 slots, one active from the start,
  with a stand-in queue: each step's caps, markers and notices.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from typing import Any, Dict, List, Optional

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "dbt"))

import worker_host as wh  # noqa: E402


def hammer(folder: str, count: int, seconds: float) -> Dict[str, int]:
    slots = wh.PoolSlots(folder, count)
    marks = os.path.join(folder, "marks")
    os.makedirs(marks, exist_ok=True)
    lock = threading.Lock()
    counts = {"taken": 0, "doubled": 0}
    end = time.monotonic() + seconds

    def run() -> None:
        while time.monotonic() < end:
            slot = slots.acquire()
            mark = os.path.join(marks, str(slot))
            try:
                os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                mine = True
            except FileExistsError:
                mine = False
            with lock:
                counts["taken"] += 1
                if not mine:
                    counts["doubled"] += 1
            time.sleep(0.001)
            if mine:
                os.unlink(mark)
            slots.release(slot)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


def slots_command(folder: str, count: int, processes: int, seconds: float) -> Dict[str, int]:
    pipes: List[int] = []
    pids: List[int] = []
    for _ in range(processes):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            out = hammer(folder, count, seconds)
            os.write(w, json.dumps(out).encode("utf-8"))
            os._exit(0)
        os.close(w)
        pipes.append(r)
        pids.append(pid)
    total = {"taken": 0, "doubled": 0}
    for r, pid in zip(pipes, pids):
        data = b""
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
        os.waitpid(pid, 0)
        got = json.loads(data.decode("utf-8"))
        total["taken"] += int(got["taken"])
        total["doubled"] += int(got["doubled"])
    return total


def dead_command(folder: str, count: int) -> Dict[str, int]:
    pid = os.fork()
    if pid == 0:
        slots = wh.PoolSlots(folder, count)
        for _ in range(count):
            slots.acquire()
        os._exit(0)  # dies holding every slot
    os.waitpid(pid, 0)
    mine = wh.PoolSlots(folder, count)
    free = 0
    while mine.try_acquire() is not None:
        free += 1
    return {"free": free}


class StandInQueue:
    """What WorkPool reads of dbt's GraphQueue: `inner` (ready nodes) and its length."""

    def __init__(self, ready: int) -> None:
        self.inner: "queue.PriorityQueue[Any]" = queue.PriorityQueue()
        for i in range(ready):
            self.inner.put((i, f"model.p.m{i}"))

    def __len__(self) -> int:
        return self.inner.qsize()


class FixedMeter(wh.CpuMeter):
    def __init__(self, load: Optional[float]) -> None:
        super().__init__()
        self.value = load

    def load(self) -> Optional[float]:
        return self.value


def pool_of(folder: str, rank: int) -> wh.WorkPool:
    spec = wh.PoolSpec(claims=folder, worker=f"chunk-{rank + 1}", rank=rank, workers=2, slots=7, active=1)
    pool = wh.WorkPool(spec)
    pool.queue = StandInQueue(ready=5)
    return pool


def caps(pools: List[wh.WorkPool]) -> List[int]:
    out: List[int] = []
    for p in pools:
        with p.lock:
            p.checked = 0.0
            out.append(p.cap())
    return out


def sizing_command(folder: str) -> Dict[str, Any]:
    notices: List[wh.Notice] = []
    first, second = pool_of(folder, 0), pool_of(folder, 1)
    first.notice = notices.append
    steps: Dict[str, Any] = {"start": caps([first, second])}
    # The second worker has started (its first node request) but takes nothing until the pool grows.
    os.close(os.open(os.path.join(folder, "live.1"), os.O_CREAT | os.O_WRONLY, 0o644))
    steps["second live"] = caps([first, second])
    # Half a core: a run waiting on its warehouse keeps one process's shape.
    first.meter = FixedMeter(0.5)
    with first.lock:
        first.pressure()
    steps["half a core"] = {"caps": caps([first, second]), "grown": os.path.exists(os.path.join(folder, "grow.1"))}
    # A core, but nothing ready waits: no growth either.
    first.meter = FixedMeter(0.95)
    first.queue = StandInQueue(ready=0)
    with first.lock:
        first.pressure()
    steps["nothing waits"] = {"caps": caps([first, second]), "grown": os.path.exists(os.path.join(folder, "grow.1"))}
    # A core with ready nodes waiting: one more worker takes nodes, and the slots are shared 4 + 3.
    first.queue = StandInQueue(ready=5)
    with first.lock:
        first.pressure()
    steps["CPU-bound"] = {"caps": caps([first, second]), "grown": os.path.exists(os.path.join(folder, "grow.1"))}
    # Both workers take nodes: the pool cannot grow past its workers.
    with first.lock:
        first.meter = FixedMeter(0.95)
        first.pressure()
    steps["notices"] = [dict(n) for n in notices]
    return steps


def measure_command(folder: str) -> Dict[str, Any]:
    """A worker ends 210 of its own nodes with 250 CPU-seconds spent since its first: the notices it sends."""
    notices: List[wh.Notice] = []
    pool = pool_of(folder, 0)
    pool.notice = notices.append
    pool.running_cpu = 0.0
    setattr(time, "process_time", lambda: 250.0)  # the module worker_host reads it from
    for i in range(210):
        uid = f"test.p.t_{i}"
        with pool.lock:
            pool.inflight[uid] = -1
        pool.ended(uid)
    # A node this worker did not run (claimed elsewhere) is not its own: no count, no notice.
    pool.ended("test.p.elsewhere")
    return {"ended": pool.ended_count, "notices": [dict(n) for n in notices]}


def main(argv: List[str]) -> None:
    command = argv[1]
    if command == "slots":
        out: Any = slots_command(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    elif command == "dead":
        out = dead_command(argv[2], int(argv[3]))
    elif command == "sizing":
        out = sizing_command(argv[2])
    elif command == "measure":
        out = measure_command(argv[2])
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
