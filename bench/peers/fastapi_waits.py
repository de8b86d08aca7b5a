"""FastAPI's three ways to wait, for bench/run's scenario 6 and docs/LESSON.md.

The FastAPI peer (fastapi_app.py, fastapi_lesson.py) plus FastAPI's own equivalents of
iocpu's IO endpoints, each written the way a FastAPI user would:

  GET /io/job?delay=          async def + await asyncio.sleep(delay)   (fastapi_app.py)
  GET /io/threadpool?delay=   def + time.sleep(delay): FastAPI runs a `def` endpoint on
                              Starlette's threadpool, anyio's default limiter of 40 threads
  GET /io/blocking?delay=     async def + time.sleep(delay): the anti-pattern, the event
                              loop thread sleeps and every other request waits
  GET /io/fetch?url=&timeout=&mode=
                              an outbound GET of `url`:
                              mode=loop        async def + httpx.AsyncClient (awaited)
                              mode=threadpool  requests.get on that same threadpool, through
                                               run_in_threadpool, which is what FastAPI does
                                               with a `def` endpoint
                              mode=blocking    requests.get inside async def (anti-pattern)
  GET /loop                   the event loop's lag: a 10 ms asyncio.sleep probe, how late it
                              woke up, over the last 10 s; and the process's thread count

/io/fetch only fetches http:// URLs whose host is a loopback IP literal (127.0.0.0/8,
[::1]): anything else is a 403 before any connection is made. Redirects are not followed;
bodies over 1 MiB are refused (502); timeout → 504, upstream unreachable → 502, all in
FastAPI's {"detail": ...} shape.

The httpx client is shared and has no cap on connections: httpx's default (100) would
make 1,000 concurrent fetches queue for the pool, which is a different lesson.

Run: bench/peers/start fastapi-waits PORT
"""

import asyncio
import collections
import ipaddress
import threading
import time
import urllib.parse

import httpx
import requests
from fastapi import HTTPException, Query
from starlette.concurrency import run_in_threadpool

import fastapi_lesson  # noqa: F401  (registers /cpu/def, /io/def, /cpu/gather)
from fastapi_app import MAX_DELAY, app

MAX_TIMEOUT = 60.0
MAX_BODY = 1 << 20
LAG_PERIOD = 0.010  # s: the probe's sleep
LAG_WINDOW = 10.0  # s: what /loop's max and p99 look back over

_lags = collections.deque()  # (time, lag in s)
_client = None


async def _lag_probe():
    loop = asyncio.get_running_loop()
    while True:
        t0 = loop.time()
        await asyncio.sleep(LAG_PERIOD)
        now = loop.time()
        _lags.append((now, max(0.0, now - t0 - LAG_PERIOD)))
        while _lags and _lags[0][0] < now - LAG_WINDOW:
            _lags.popleft()


@app.on_event("startup")
async def _start():
    global _client
    _client = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
        follow_redirects=False,
    )
    app.state.lag_task = asyncio.get_running_loop().create_task(_lag_probe())


@app.on_event("shutdown")
async def _stop():
    app.state.lag_task.cancel()
    await _client.aclose()


@app.get("/loop")
async def loop_state():
    lags = sorted(l for _, l in _lags)
    ms = [l * 1000 for l in lags]
    return {
        "lag_ms": {
            "last": round(_lags[-1][1] * 1000, 3) if _lags else 0.0,
            "max": round(ms[-1], 3) if ms else 0.0,
            "p99": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 3) if ms else 0.0,
            "samples": len(ms),
            "window_s": LAG_WINDOW,
        },
        "threads": threading.active_count(),
    }


def _answer(name, delay, start, ran_on, extra=None):
    elapsed = time.perf_counter() - start
    body = {
        "name": name,
        "delay": delay,
        "result": f"{name} done after {delay}s",
        "elapsed": elapsed,
        "ran_on": ran_on,
    }
    body.update(extra or {})
    return body


@app.get("/io/threadpool")
def io_threadpool(name: str = Query("job"), delay: float = Query(1.0, ge=0, le=MAX_DELAY)):
    start = time.perf_counter()
    time.sleep(delay)  # blocks one of the threadpool's 40 threads, not the loop
    return _answer(name, delay, start, "threadpool", {"thread": threading.current_thread().name})


@app.get("/io/blocking")
async def io_blocking(name: str = Query("job"), delay: float = Query(1.0, ge=0, le=MAX_DELAY)):
    start = time.perf_counter()
    time.sleep(delay)  # the anti-pattern on purpose: the loop thread sleeps
    return _answer(name, delay, start, "event_loop", {"blocked_loop_for": time.perf_counter() - start})


def _loopback_url(url: str) -> str:
    """The URL if it is http:// to a loopback IP literal, else HTTPException(403)."""
    try:
        u = urllib.parse.urlsplit(url)
        host = ipaddress.ip_address(u.hostname or "")
        u.port  # raises ValueError on a bad port
    except ValueError:
        raise HTTPException(403, "url must be http:// to a loopback IP address") from None
    if u.scheme != "http" or not host.is_loopback or u.username or u.password:
        raise HTTPException(403, "url must be http:// to a loopback IP address")
    return url


def _fetch_blocking(url: str, timeout: float):
    """requests.get with a size cap: (status, bytes)."""
    try:
        with requests.get(url, timeout=timeout, stream=True, allow_redirects=False) as r:
            size = 0
            for chunk in r.iter_content(65536):
                size += len(chunk)
                if size > MAX_BODY:
                    raise HTTPException(502, "upstream body over 1 MiB")
            return r.status_code, size
    except requests.Timeout:
        raise HTTPException(504, "upstream timed out") from None
    except requests.RequestException:
        raise HTTPException(502, "upstream unreachable") from None


async def _fetch_async(url: str, timeout: float):
    try:
        async with _client.stream("GET", url, timeout=timeout) as r:
            size = 0
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                if size > MAX_BODY:
                    raise HTTPException(502, "upstream body over 1 MiB")
            return r.status_code, size
    except httpx.TimeoutException:
        raise HTTPException(504, "upstream timed out") from None
    except httpx.HTTPError:
        raise HTTPException(502, "upstream unreachable") from None


@app.get("/io/fetch")
async def io_fetch(
    url: str = Query(...),
    timeout: float = Query(10.0, gt=0, le=MAX_TIMEOUT),
    mode: str = Query("loop", regex="^(loop|threadpool|blocking)$"),
):
    _loopback_url(url)
    start = time.perf_counter()
    if mode == "loop":
        status, size = await _fetch_async(url, timeout)
        ran_on = "event_loop"
    elif mode == "threadpool":
        status, size = await run_in_threadpool(_fetch_blocking, url, timeout)
        ran_on = "threadpool"
    else:
        status, size = _fetch_blocking(url, timeout)  # anti-pattern: blocks the loop
        ran_on = "event_loop"
    return {
        "url": url,
        "mode": mode,
        "status": status,
        "bytes": size,
        "elapsed": time.perf_counter() - start,
        "ran_on": ran_on,
    }
