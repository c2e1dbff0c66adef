"""The production set-up the HTTP benchmarks run against, as ``.ci/production`` and docs/operations.md
do it: DEBUG=0, generated SECRET_KEY and YIWANG_KEK, a scratch PostgreSQL database (created, then
dropped), a Redis database of its own (flushed before and after), persistent database connections,
collectstatic into a temporary directory, migrate, load-demo, gunicorn with several workers and
``yiwang worker``. gunicorn keeps idle connections 30 s (as a reverse proxy in front would): with its
2 s default, a client reusing a connection the server has just closed counts an error that no
application code caused. Only the bench's gunicorn gets ``bench.site_settings`` (the two baseline endpoints).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProductionSite:
    """``with ProductionSite() as site:`` — ``site.base`` answers; ``site.env`` reaches its database."""

    def __init__(self, *, workers: int | None = None, threads: int | None = None, redis_db: int = 5):
        self.workers = workers or int(os.environ.get("BENCH_WORKERS", "4"))
        self.threads = threads or int(os.environ.get("BENCH_THREADS", "4"))
        self.redis_url = f"redis://127.0.0.1:6379/{redis_db}"
        self.db = f"bench_http_{os.getpid()}"
        pg = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
        self.admin_url, self.database_url = f"{pg}/postgres", f"{pg}/{self.db}"
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="yiwang-bench-http-"))
        self.procs: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "YIWANG_KEK": secrets.token_hex(16),
            "DATABASE_URL": self.database_url,
            "DB_CONN_MAX_AGE": "60",
            "REDIS_URL": self.redis_url,
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": self.base,
            "YIWANG_PUBLIC_URL": self.base,
            "YIWANG_DATA_DIR": str(self.dir / "data"),
            "YIWANG_STATIC_ROOT": str(self.dir / "static"),
            "YIWANG_MEDIA_ROOT": str(self.dir / "media"),
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "TLS_PROXY": "0",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "yiwang.settings",
            # the bench package (and this tree's src, for a copy of an older tree measured beside this one)
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p),
        }
        self.env.pop("YIWANG_HUEY_IMMEDIATE", None)

    def _sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)

    def _flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def _yiwang(self, *args: str) -> None:
        out = subprocess.run([str(BIN / "yiwang"), *args], env=self.env, capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"yiwang {' '.join(args)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")

    def __enter__(self) -> ProductionSite:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        t0 = time.perf_counter()
        print(f"== site: PostgreSQL {self.db}, Redis {self.redis_url}, {self.base}", flush=True)
        self._flush_redis()
        self._sql(f"CREATE DATABASE {self.db}")
        self._yiwang("migrate", "--noinput", "-v0")
        self._yiwang("collectstatic", "--noinput", "-v0")
        self._yiwang("load-demo")
        self._yiwang("check", "--deploy", "--fail-level", "ERROR")
        web_env = {**self.env, "DJANGO_SETTINGS_MODULE": "bench.site_settings"}
        log = open(self.dir / "gunicorn.log", "w")  # noqa: SIM115 — open while the server runs
        self.procs.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "yiwang.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                    "--timeout",
                    "120",
                    "--forwarded-allow-ips",
                    "127.0.0.1",
                    "--chdir",
                    str(ROOT),
                    "--pythonpath",
                    str(ROOT),
                ],
                env=web_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
        worker_log = open(self.dir / "worker.log", "w")  # noqa: SIM115
        self.procs.append(
            subprocess.Popen([str(BIN / "yiwang"), "worker"], env=self.env, stdout=worker_log, stderr=subprocess.STDOUT)
        )
        for _ in range(120):
            try:
                with urllib.request.urlopen(self.base + "/bench/hello/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit(f"gunicorn did not answer on {self.base}:\n{self.log_tail()}")
        print(f"   ready in {time.perf_counter() - t0:.0f} s ({self.workers} workers × {self.threads} threads)")

    def log_tail(self, n: int = 4000) -> str:
        path = self.dir / "gunicorn.log"
        return path.read_text(errors="replace")[-n:] if path.exists() else ""

    def tracebacks(self) -> int:
        return self.log_tail(10**9).count("Traceback")

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()
        try:
            self._sql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        finally:
            try:
                self._flush_redis()
            finally:
                shutil.rmtree(self.dir, ignore_errors=True)
