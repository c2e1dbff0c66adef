"""`yiwang serve`: the web server and a background worker together, for the demo and small sites.

The worker (``yiwang worker``) runs in a child process, started once the web server holds its port
and stopped with it: Ctrl-C or SIGTERM stop both. On Linux the child also dies if this process is
killed outright. Production runs gunicorn and ``yiwang worker`` separately (docs/operations.md).

Unless ``YIWANG_PUBLIC_URL`` is given, the address the server listens on becomes the public URL that
QR codes, receipts and notices point to — in this process and in the worker, which writes documents too.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys

from django.conf import settings
from django.core.management.commands.runserver import Command as RunserverCommand

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def public_url_for(addr: str, port: int | str, *, ipv6: bool = False) -> str:
    """The URL others reach a server on that listens on ``addr:port``. A wildcard address (0.0.0.0,
    ::) is no address to give anyone: the machine's name stands in for it."""
    if addr in ("0", "0.0.0.0", "::"):
        host = socket.getfqdn() or "localhost"
    elif ipv6:
        host = f"[{addr}]"
    else:
        host = addr
    return f"http://{host}:{port}"


class Command(RunserverCommand):
    help = "启动网站（默认 http://127.0.0.1:8000）和后台任务进程；按 Ctrl-C 同时停止两者。"
    default_addr = "127.0.0.1"
    default_port = "8000"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--no-worker", action="store_true", help="只启动网站，不启动后台任务进程")

    def handle(self, *args, **options):
        # the autoreloader would run this command twice, and with it two workers
        options["use_reloader"] = False
        self.worker: subprocess.Popen | None = None
        self.with_worker = not options["no_worker"]
        previous_term = signal.signal(signal.SIGTERM, self._terminate)
        # a shell starting us in the background ignores SIGINT; Ctrl-C / kill -INT must still stop us
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            super().handle(*args, **options)
        finally:
            signal.signal(signal.SIGTERM, previous_term)
            signal.signal(signal.SIGINT, previous_int)
            self._stop_worker()

    @staticmethod
    def _terminate(signum, frame) -> None:
        raise KeyboardInterrupt  # the web server shuts down as on Ctrl-C

    def on_bind(self, server_port):
        super().on_bind(server_port)
        public = os.environ.get("YIWANG_PUBLIC_URL", "").rstrip("/")
        if not public:
            public = public_url_for(self.addr, server_port, ipv6=self._raw_ipv6)
            settings.YIWANG_PUBLIC_URL = public
            os.environ["YIWANG_PUBLIC_URL"] = public  # inherited by the worker
        if self.with_worker:
            self.worker = subprocess.Popen([sys.executable, "-m", "yiwang.cli", "worker"], preexec_fn=_die_with_parent)
        addr = f"[{self.addr}]" if self._raw_ipv6 else ("0.0.0.0" if self.addr == "0" else self.addr)
        url = f"http://{addr}:{server_port}/"
        worker = f"后台任务进程 pid {self.worker.pid}" if self.worker else "未启动后台任务进程"
        self.stdout.write(self.style.SUCCESS(f"一网已启动：{url}（{worker}）。按 Ctrl-C 停止。"))
        self.stdout.write(f"  门户：{public}/\n  管理后台：{public}/admin/\n  接口文档：{public}/api/docs/")
        self.stdout.write(f"  二维码、回执和告知书中的网址：{public}/（另行指定：设置 YIWANG_PUBLIC_URL）")

    def _stop_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is None or worker.poll() is not None:
            return
        # SIGINT asks huey to finish the running tasks; then harder, so that nothing is left behind
        for sig, wait in ((signal.SIGINT, 15), (signal.SIGTERM, 5)):
            try:
                worker.send_signal(sig)
                worker.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue
        worker.kill()
        worker.wait()
