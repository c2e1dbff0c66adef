"""Running the platform: production settings refuse development secrets; `yiwang serve` runs web and
worker together and stops both; `yiwang worker` consumes queued tasks."""

import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

GOOD_KEY = "k" * 50
GOOD_KEK = "00112233445566778899aabbccddeeff"
PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "from huey.contrib.djhuey import HUEY; "
    "print(s.DEBUG, type(HUEY).__name__, s.DATABASES['default']['ENGINE'], s.SESSION_COOKIE_SECURE, "
    "s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
)


def python(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "YIWANG_KEK", "REDIS_URL")}
    environment |= {"DJANGO_SETTINGS_MODULE": "yiwang.settings", "YIWANG_DATA_DIR": str(tmp_path)} | env
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=False, cwd=tmp_path
    )


def test_production_refuses_to_start_with_development_secrets(tmp_path):
    result = python(PRINT_SETTINGS, tmp_path, DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY 未设置或太短" in result.stderr and "YIWANG_KEK 未设置" in result.stderr

    explicit_dev_key = python(
        PRINT_SETTINGS, tmp_path, DEBUG="0", SECRET_KEY="dev-only-insecure-secret-key-change-me-in-production"
    )
    assert explicit_dev_key.returncode != 0 and "SECRET_KEY" in explicit_dev_key.stderr

    bad_kek = python(PRINT_SETTINGS, tmp_path, DEBUG="0", SECRET_KEY=GOOD_KEY, YIWANG_KEK="not-hex")
    assert bad_kek.returncode != 0 and "YIWANG_KEK 应为 32 位十六进制字符" in bad_kek.stderr


def test_production_settings_with_redis_and_postgresql(tmp_path):
    result = python(
        PRINT_SETTINGS,
        tmp_path,
        DEBUG="0",
        SECRET_KEY=GOOD_KEY,
        YIWANG_KEK=GOOD_KEK,
        REDIS_URL="redis://:secret@redis.internal:6379/2",
        DATABASE_URL="postgres://yiwang:pw@db.internal:5432/yiwang",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "RedisHuey", "django.db.backends.postgresql", "True", "RedisCache"]


def test_development_defaults_need_no_configuration(tmp_path):
    result = python(PRINT_SETTINGS, tmp_path, DEBUG="1", DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "SqliteHuey", "django.db.backends.sqlite3", "False", "LocMemCache"]


def test_worker_is_not_needed_in_immediate_mode(settings):
    settings.HUEY = {**settings.HUEY, "immediate": True}
    with pytest.raises(CommandError, match="不需要后台任务进程"):
        call_command("worker")


def test_worker_never_prints_the_redis_password(settings):
    from yiwang.core.management.commands.worker import describe_storage

    settings.HUEY = {"huey_class": "huey.RedisHuey", "url": "redis://:s3cret@redis.internal:6380/1"}
    assert describe_storage() == "Redis redis.internal:6380/1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited


@pytest.fixture
def site(tmp_path):
    """A migrated SQLite site in its own directory, and a way to run `yiwang` against it."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "YIWANG_PUBLIC_URL"},
        "YIWANG_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "YIWANG_HUEY_IMMEDIATE": "0",
        "DEBUG": "1",
    }

    def yiwang(*args, **kwargs):
        return subprocess.run(
            [sys.executable, "-m", "yiwang.cli", *args], env=env, capture_output=True, text=True, check=False, **kwargs
        )

    migrated = yiwang("migrate", "--noinput", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    return env, yiwang, tmp_path


def start_serve(env, port: int, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "yiwang.cli", "serve", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as in a terminal
        **popen,
    )


def test_serve_runs_web_and_worker_and_ctrl_c_stops_both(site):
    env, yiwang, data_dir = site
    port = free_port()
    serve = start_serve(env, port)
    try:
        assert wait_for(lambda: len(children(serve.pid)) == 1), "the worker child was not started"
        worker = children(serve.pid)[0]

        def home_ok() -> bool:
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).status == 200
            except OSError:
                return False

        assert wait_for(home_ok), "the web server did not answer"
        # the worker writes documents too: it points them at the same address
        worker_env = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
        assert f"YIWANG_PUBLIC_URL=http://127.0.0.1:{port}".encode() in worker_env

        # a task queued by another process is run by the worker
        queued = yiwang(
            "shell",
            "-c",
            "from yiwang.core import audit; from yiwang.core.tasks import audit_checkpoint\n"
            "audit.record(('cases.case', 1), 'case.submitted'); audit_checkpoint()",
        )
        assert queued.returncode == 0, queued.stderr

        def sealed() -> bool:
            # the periodic run at minute 0, 10, 20 … may seal it first: any checkpoint will do
            query = "SELECT checkpoint_id FROM core_auditevent WHERE subject_type = 'cases.case'"
            with sqlite3.connect(data_dir / "site.sqlite3") as db:
                return db.execute(query).fetchone()[0] is not None

        # an idle consumer polls the queue at most every 10 s; a loaded machine needs more
        assert wait_for(sealed, timeout=90), "the worker did not run the queued task"

        os.killpg(serve.pid, signal.SIGINT)  # Ctrl-C in the terminal reaches the whole group
        serve.wait(timeout=30)
        assert wait_for(lambda: not alive(worker), timeout=20)
    except AssertionError as exc:
        os.killpg(serve.pid, signal.SIGKILL)
        raise AssertionError(f"{exc}\n--- yiwang serve said:\n{serve.communicate()[0]}") from None
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
    output = serve.stdout.read()
    assert f"一网已启动：http://127.0.0.1:{port}/（后台任务进程 pid {worker}）" in output
    assert "后台任务进程：SQLite" in output
    assert f"门户：http://127.0.0.1:{port}/\n" in output and f"管理后台：http://127.0.0.1:{port}/admin/\n" in output
    assert f"二维码、回执和告知书中的网址：http://127.0.0.1:{port}/" in output


def bound_serve_command(addr: str = "127.0.0.1", ipv6: bool = False):
    """`yiwang serve` as runserver leaves it once the port is bound, without a worker."""
    from yiwang.core.management.commands.serve import Command

    command = Command(stdout=io.StringIO())
    command.addr, command._raw_ipv6, command.protocol = addr, ipv6, "http"
    command.with_worker, command.worker = False, None
    return command


def test_serve_makes_its_own_address_the_public_url_of_qr_codes_and_documents(settings, monkeypatch):
    from yiwang.licences.files import public_url

    settings.YIWANG_PUBLIC_URL = "http://127.0.0.1:8000"  # restored after the test
    monkeypatch.delenv("YIWANG_PUBLIC_URL", raising=False)
    command = bound_serve_command("192.0.2.10")
    command.on_bind(8123)
    assert settings.YIWANG_PUBLIC_URL == "http://192.0.2.10:8123"
    assert os.environ["YIWANG_PUBLIC_URL"] == "http://192.0.2.10:8123"  # for the worker
    assert public_url("/licences/verify/") == "http://192.0.2.10:8123/licences/verify/"
    assert "管理后台：http://192.0.2.10:8123/admin/" in command.stdout._out.getvalue()


def test_a_given_public_url_wins_over_the_address_served_on(settings, monkeypatch):
    settings.YIWANG_PUBLIC_URL = "https://zwfw.example.gov.cn"
    monkeypatch.setenv("YIWANG_PUBLIC_URL", "https://zwfw.example.gov.cn/")
    command = bound_serve_command()
    command.on_bind(8124)
    assert settings.YIWANG_PUBLIC_URL == "https://zwfw.example.gov.cn"
    assert "管理后台：https://zwfw.example.gov.cn/admin/" in command.stdout._out.getvalue()


def test_public_url_of_a_wildcard_or_ipv6_address():
    from yiwang.core.management.commands.serve import public_url_for

    assert public_url_for("0.0.0.0", 8000) == f"http://{socket.getfqdn()}:8000"
    assert public_url_for("0", 8000) == f"http://{socket.getfqdn()}:8000"
    assert public_url_for("::1", 8000, ipv6=True) == "http://[::1]:8000"


def test_sigterm_to_serve_stops_the_worker_too(site):
    env, _, _ = site
    serve = start_serve(env, free_port())
    try:
        assert wait_for(lambda: len(children(serve.pid)) == 1)
        worker = children(serve.pid)[0]
        serve.send_signal(signal.SIGTERM)  # only the parent, as a service manager would
        serve.wait(timeout=30)
        assert wait_for(lambda: not alive(worker), timeout=25)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)


def test_sigint_stops_serve_even_when_started_in_the_background(site):
    """`make run &` from a script: the shell makes background jobs ignore SIGINT."""
    env, _, _ = site
    serve = start_serve(env, free_port(), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert wait_for(lambda: len(children(serve.pid)) == 1)
        worker = children(serve.pid)[0]
        os.killpg(serve.pid, signal.SIGINT)
        serve.wait(timeout=30)
        assert wait_for(lambda: not alive(worker), timeout=25)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)


def test_serve_on_a_busy_port_fails_without_leaving_a_worker(site):
    env, _, _ = site
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        serve = start_serve(env, port)
        try:
            assert serve.wait(timeout=30) != 0
        finally:
            if serve.poll() is None:
                os.killpg(serve.pid, signal.SIGKILL)
        assert "That port is already in use" in serve.stdout.read()
        assert children(serve.pid) == []
