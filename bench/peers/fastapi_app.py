"""FastAPI peer for the iocpu benchmarks (bench/run).

The same URLs and JSON shapes as iocpu's HTTP contract (API.md) for the endpoints the
benchmark compares, written the ordinary FastAPI way:

  GET /healthz                          {"status":"ok"}
  GET /io/job?name=&delay=              async def + await asyncio.sleep(delay)
  GET /cpu/executor?n=&iterations=|ms=  loop.run_in_executor(ThreadPoolExecutor, ...)
  GET /cpu/blocking?n=&iterations=|ms=  the same CPU work inside async def (anti-pattern:
                                        the event loop is stalled while it runs)

cpu_heavy(n, iterations) = sum((i * n) % 7 for i in range(iterations)); `ms` instead of
`iterations` burns that much CPU time of the running thread (time.thread_time()) and
reports the iterations done.  Under the GIL the pool threads take turns, so `ms` of CPU
time may take longer in wall time when several jobs run at once: that is the point.

Pool size: env PEER_WORKERS (default os.cpu_count()).  Bad query parameters get FastAPI's
own 422 body; unknown paths 404, wrong methods 405, as FastAPI does by itself.

Run (Debian's packages live in the system interpreter, hence /usr/bin/python3):
  /usr/bin/python3 -m uvicorn --app-dir bench/peers fastapi_app:app --host 127.0.0.1 \
      --port 8001 --loop uvloop --http httptools --log-level warning --no-access-log
or simply: bench/peers/start fastapi 8001
"""

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from fastapi import FastAPI, Query, Response

MAX_DELAY = 60.0
MAX_ITERATIONS = 5_000_000_000
MAX_MS = 60_000.0
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
DEFAULT_ITERATIONS = 1_000_000
BURN_CHUNK = 10_000  # iterations between two looks at the thread CPU clock

WORKERS = int(os.environ.get("PEER_WORKERS") or os.cpu_count() or 1)
EXECUTOR = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="worker")

_worker_ids = threading.local()
_worker_counter = 0
_worker_lock = threading.Lock()

app = FastAPI(title="iocpu FastAPI peer")


def worker_id() -> int:
    """Small integer id of the pool thread running the job (0..WORKERS-1)."""
    global _worker_counter
    wid = getattr(_worker_ids, "id", None)
    if wid is None:
        with _worker_lock:
            wid = _worker_counter
            _worker_counter += 1
        _worker_ids.id = wid
    return wid


def cpu_heavy(n: int, iterations: int) -> int:
    return sum((i * n) % 7 for i in range(iterations))


def burn_ms(n: int, ms: float):
    """Run cpu_heavy's loop until `ms` of this thread's CPU time is used.

    Returns (result, iterations done)."""
    budget = ms / 1000.0
    start = time.thread_time()
    total = 0
    done = 0
    while time.thread_time() - start < budget:
        total += sum((i * n) % 7 for i in range(done, done + BURN_CHUNK))
        done += BURN_CHUNK
    return total, done


def run_cpu(n: int, iterations: Optional[int], ms: Optional[float]):
    """The CPU job itself: returns (result, iterations, wall elapsed, cpu seconds)."""
    t0 = time.perf_counter()
    c0 = time.thread_time()
    if ms is not None:
        result, iterations = burn_ms(n, ms)
    else:
        result = cpu_heavy(n, iterations)
    return result, iterations, time.perf_counter() - t0, time.thread_time() - c0


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.get("/io/job")
async def io_job(
    name: str = Query("job"),
    delay: float = Query(1.0, ge=0, le=MAX_DELAY),
):
    start = time.perf_counter()
    await asyncio.sleep(delay)
    return {
        "name": name,
        "delay": delay,
        "result": f"{name} done after {delay}s",
        "elapsed": time.perf_counter() - start,
    }


@app.get("/cpu/executor")
async def cpu_executor(
    response: Response,
    n: int = Query(3, ge=INT64_MIN, le=INT64_MAX),
    iterations: Optional[int] = Query(None, ge=0, le=MAX_ITERATIONS),
    ms: Optional[float] = Query(None, ge=0, le=MAX_MS),
):
    if ms is None and iterations is None:
        iterations = DEFAULT_ITERATIONS
    loop = asyncio.get_running_loop()
    submitted = time.perf_counter()

    def job():
        started = time.perf_counter()
        wid = worker_id()
        return (started, wid) + run_cpu(n, iterations, ms)

    started, wid, result, iters, _, cpu = await loop.run_in_executor(EXECUTOR, job)
    end = time.perf_counter()
    queued = started - submitted
    response.headers["Server-Timing"] = (
        f"total;dur={(end - submitted) * 1000:.3f}, queue;dur={queued * 1000:.3f}, "
        f"cpu;dur={cpu * 1000:.3f}"
    )
    return {
        "n": n,
        "iterations": iters,
        "result": result,
        "elapsed": end - submitted,
        "queued": queued,
        "worker": wid,
        "ran_on": "executor",
    }


@app.get("/cpu/blocking")
async def cpu_blocking(
    n: int = Query(3, ge=INT64_MIN, le=INT64_MAX),
    iterations: Optional[int] = Query(None, ge=0, le=MAX_ITERATIONS),
    ms: Optional[float] = Query(None, ge=0, le=MAX_MS),
):
    if ms is None and iterations is None:
        iterations = DEFAULT_ITERATIONS
    # The anti-pattern on purpose: CPU work straight inside `async def`.
    result, iters, elapsed, _ = run_cpu(n, iterations, ms)
    return {
        "n": n,
        "iterations": iters,
        "result": result,
        "elapsed": elapsed,
        "ran_on": "event_loop",
        "blocked_loop_for": elapsed,
    }
