"""The FastAPI peer (fastapi_app.py) plus what docs/LESSON.md compares with iocpu.

  GET /cpu/def?n=&iterations=|ms=   the CPU job in a plain `def` endpoint: Starlette runs it
                                    on its threadpool (anyio's, 40 threads by default)
  GET /io/def?name=&delay=          time.sleep(delay) in a plain `def` endpoint: a blocking
                                    IO call on that same threadpool
  GET /cpu/gather?ns=3,5&ms=        the seed's A3_cpu_bound_note: asyncio.gather of one
                                    run_in_executor job per n, with iocpu's body shape
                                    {"results","elapsed","sum_of_job_times","speedup"};
                                    sum_of_job_times adds each job's thread CPU time

Everything else (healthz, /io/job, /cpu/executor, /cpu/blocking) is fastapi_app.py's.

Run (Debian's packages live in the system interpreter, hence /usr/bin/python3):
  /usr/bin/python3 -m uvicorn --app-dir bench/peers fastapi_lesson:app --host 127.0.0.1 \
      --port 8002 --loop uvloop --http httptools --log-level warning --no-access-log
"""

import asyncio
import time
from typing import Optional

from fastapi import HTTPException, Query

from fastapi_app import (
    DEFAULT_ITERATIONS,
    EXECUTOR,
    INT64_MAX,
    INT64_MIN,
    MAX_DELAY,
    MAX_ITERATIONS,
    MAX_MS,
    app,
    run_cpu,
)

MAX_LIST = 100


@app.get("/cpu/def")
def cpu_def(
    n: int = Query(3, ge=INT64_MIN, le=INT64_MAX),
    iterations: Optional[int] = Query(None, ge=0, le=MAX_ITERATIONS),
    ms: Optional[float] = Query(None, ge=0, le=MAX_MS),
):
    if ms is None and iterations is None:
        iterations = DEFAULT_ITERATIONS
    result, iters, elapsed, cpu = run_cpu(n, iterations, ms)
    return {
        "n": n,
        "iterations": iters,
        "result": result,
        "elapsed": elapsed,
        "cpu_time": cpu,
        "ran_on": "threadpool",
    }


@app.get("/io/def")
def io_def(
    name: str = Query("job"),
    delay: float = Query(1.0, ge=0, le=MAX_DELAY),
):
    start = time.perf_counter()
    time.sleep(delay)
    return {
        "name": name,
        "delay": delay,
        "result": f"{name} done after {delay}s",
        "elapsed": time.perf_counter() - start,
    }


@app.get("/cpu/gather")
async def cpu_gather(
    ns: str = Query("3,5"),
    iterations: Optional[int] = Query(None, ge=0, le=MAX_ITERATIONS),
    ms: Optional[float] = Query(None, ge=0, le=MAX_MS),
):
    try:
        values = [int(v) for v in ns.split(",")]
    except ValueError:
        raise HTTPException(422, "ns must be a comma-separated list of integers")
    if not 1 <= len(values) <= MAX_LIST:
        raise HTTPException(422, f"ns must have 1 to {MAX_LIST} items")
    if ms is None and iterations is None:
        iterations = DEFAULT_ITERATIONS
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    jobs = await asyncio.gather(
        *(loop.run_in_executor(EXECUTOR, run_cpu, n, iterations, ms) for n in values)
    )
    elapsed = time.perf_counter() - start
    cpu = sum(job[3] for job in jobs)
    return {
        "results": [job[0] for job in jobs],
        "elapsed": elapsed,
        "sum_of_job_times": cpu,
        "speedup": round(cpu / elapsed, 3),
    }
