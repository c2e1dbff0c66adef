"""The load generator: N concurrent asyncio clients (aiohttp) in a process of their own, so that the
client does not share the server's Python with it. Reads one JSON job on stdin, prints one JSON result:
``python -m bench.loadgen < job.json`` from the repository root.

Job: ``{"base": url, "clients": N, "seconds": S | "count": K, "warmup": W, "login": {...} | null, "kind":
"get" | "post" | "submit", ...}``.

- ``login``: ``{"username", "password"}`` — each client logs in once through the portal's login form
  (session cookie + CSRF token), before the clock starts.
- ``get``: ``paths`` fetched in turn; ``post``: ``path`` posted empty (the bench insert baseline).
- ``submit``: ``POST /api/cases/`` multipart with ``fields`` and the ``uploads`` (field, filename,
  base64 bytes); ``key_prefix`` gives each submission an ``Idempotency-Key``; ``retry_share`` of them are
  sent a second time with the same key, and the answer must name the same case.

Result: requests, ok (2xx), errors (anything else or a wrong answer), status counts, rate (ok/s over the
timed window), p50/p99 ms, created (201), replayed (200 with the same case), numbers (with ``keep_numbers``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import sys
import time
from collections import Counter

import aiohttp


class Client:
    def __init__(self, job: dict, session: aiohttp.ClientSession):
        self.job, self.session, self.base = job, session, job["base"].rstrip("/")
        self.csrf = ""
        self.files = {up["field"]: base64.b64decode(up["data"]) for up in job.get("uploads", [])}

    async def login(self) -> None:
        creds = self.job["login"]
        async with self.session.get(self.base + "/login/") as resp:
            await resp.read()
        self.csrf = self.cookie("csrftoken")
        form = {"username": creds["username"], "password": creds["password"], "csrfmiddlewaretoken": self.csrf}
        async with self.session.post(self.base + "/login/", data=form, allow_redirects=False) as resp:
            await resp.read()
            if resp.status != 302 or not self.cookie("sessionid"):
                raise SystemExit(f"login as {creds['username']} failed: HTTP {resp.status}")
        self.csrf = self.cookie("csrftoken")

    def cookie(self, name: str) -> str:
        for c in self.session.cookie_jar:
            if c.key == name:
                return c.value
        return ""

    def headers(self, extra: dict | None = None) -> dict:
        h = {"X-CSRFToken": self.csrf} if self.csrf else {}
        return {**h, **(extra or {})}

    def submission(self) -> aiohttp.FormData:
        form = aiohttp.FormData()
        for name, value in self.job["fields"].items():
            form.add_field(name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for up in self.job.get("uploads", []):
            form.add_field(up["field"], self.files[up["field"]], filename=up["filename"])
        return form


async def one(client: Client, stats: dict, key: str | None = None) -> tuple[int, dict | None]:
    job = client.job
    t0 = time.perf_counter()
    body = None
    try:
        if job["kind"] == "get":
            paths = job["paths"]
            path = paths[stats["requests"] % len(paths)]
            async with client.session.get(client.base + path, headers=client.headers()) as resp:
                status = resp.status
                await resp.read()
        elif job["kind"] == "post":
            async with client.session.post(client.base + job["path"], headers=client.headers()) as resp:
                status = resp.status
                await resp.read()
        else:
            extra = {"Idempotency-Key": key} if key else {}
            async with client.session.post(
                client.base + "/api/cases/", data=client.submission(), headers=client.headers(extra)
            ) as resp:
                status = resp.status
                raw = await resp.read()
                body = json.loads(raw) if raw and resp.content_type == "application/json" else None
                if status >= 400 and len(stats["samples"]) < 5:
                    stats["samples"].append(raw[:300].decode(errors="replace"))
    except (TimeoutError, aiohttp.ClientError) as exc:
        status = 599
        if len(stats["samples"]) < 5:
            stats["samples"].append(repr(exc))
    stats["requests"] += 1
    stats["statuses"][status] += 1
    if stats["timing"]:
        stats["latencies"].append((time.perf_counter() - t0) * 1000)
    return status, body


async def worker(client: Client, stats: dict, stop_at: float | None, counter: list[int]) -> None:
    job = client.job
    while True:
        if stop_at is not None and time.perf_counter() >= stop_at:
            return
        key = None
        if job["kind"] == "submit" and job.get("key_prefix"):
            if counter[0] <= 0:
                return
            counter[0] -= 1
            key = f"{job['key_prefix']}-{counter[0]}"
        elif "count" in job and job.get("count") is not None:
            if counter[0] <= 0:
                return
            counter[0] -= 1
        status, body = await one(client, stats, key)
        if job["kind"] != "submit":
            continue
        if status == 201 and body:
            stats["created"] += 1
            if job.get("keep_numbers"):
                stats["numbers"].append(body.get("number"))
            if key and random.random() < job.get("retry_share", 0):
                # the client did not hear the answer and sends the same submission again
                again, second = await one(client, stats, key)
                if again == 200 and second and second.get("number") == body.get("number"):
                    stats["replayed"] += 1
                else:
                    stats["wrong_replays"] += 1


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


async def main(job: dict) -> dict:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=job.get("timeout", 120))
    sessions = [
        aiohttp.ClientSession(connector=connector, connector_owner=False, timeout=timeout,
                              cookie_jar=aiohttp.CookieJar(unsafe=True))
        for _ in range(job["clients"])
    ]  # fmt: skip
    clients = [Client(job, s) for s in sessions]
    try:
        if job.get("login"):
            await asyncio.gather(*(c.login() for c in clients))
        stats = {"requests": 0, "statuses": Counter(), "latencies": [], "samples": [], "created": 0, "replayed": 0,
                 "wrong_replays": 0, "numbers": [], "timing": False}  # fmt: skip
        if job.get("warmup"):
            warm_stop = time.perf_counter() + job["warmup"]
            await asyncio.gather(*(worker(c, stats, warm_stop, [1 << 60]) for c in clients if job["kind"] != "submit"))
            stats.update(requests=0, statuses=Counter(), samples=[])
        stats["timing"] = True
        counter = [job["count"] if job.get("count") is not None else 1 << 60]
        stop_at = None if job.get("count") is not None else time.perf_counter() + job["seconds"]
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c, stats, stop_at, counter) for c in clients))
        elapsed = time.perf_counter() - t0
        probe = None
        if job.get("probe"):
            # what the answer says (counted by the bench afterwards), asked once after the timed window
            async with sessions[0].get(clients[0].base + job["probe"]) as resp:
                body = await resp.json(content_type=None)
            probe = {k: body.get(k) for k in ("count", "number")} if isinstance(body, dict) else {}
    finally:
        for s in sessions:
            await s.close()
        await connector.close()
    ok = sum(n for s, n in stats["statuses"].items() if 200 <= s < 300)
    return {
        "requests": stats["requests"],
        "ok": ok,
        "errors": stats["requests"] - ok + stats["wrong_replays"],
        "statuses": {str(k): v for k, v in sorted(stats["statuses"].items())},
        "seconds": round(elapsed, 3),
        "rate": round(ok / elapsed, 2) if elapsed else 0.0,
        "p50_ms": percentile(stats["latencies"], 0.50),
        "p99_ms": percentile(stats["latencies"], 0.99),
        "created": stats["created"],
        "replayed": stats["replayed"],
        "wrong_replays": stats["wrong_replays"],
        "numbers": stats["numbers"],
        "samples": stats["samples"],
        "probe": probe,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.load(sys.stdin)))))
