"""Structured logs as an operator reads them: one JSON line per request, a security line for a refused
login, a refused call and a throttled caller, ID numbers and phone numbers masked everywhere, and the
outputs (console, rotated file, syslog) chosen by the environment."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import socket
import subprocess
import sys

import pytest
from django.urls import reverse

from yiwang.core.ids import make_citizen_id
from yiwang.identity.models import User

PASSWORD = "Yiwang-test-2026"
ID_NUMBER = "441602199005121231"
PHONE = "13800000001"


@pytest.fixture
def log_lines():
    """What the configured console handler writes (its own formatter and filters), line by line."""
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "name", "") == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)

    def lines(logger: str | None = None) -> list[dict]:
        parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [p for p in parsed if logger is None or p["logger"] == logger]

    yield lines
    handler.setStream(previous)


@pytest.fixture
def citizen(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return User.objects.create_user(username=PHONE, password=PASSWORD, phone=PHONE)


def test_a_request_is_one_json_line_with_its_fields(client, citizen, log_lines):
    client.force_login(citizen)
    response = client.get("/api/items/?q=食品&page=1", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200

    [line] = log_lines("yiwang.request")
    assert line["message"] == "request" and line["level"] == "INFO" and line["time"]
    assert line["method"] == "GET" and line["path"] == "/api/items/"  # no query string
    assert line["status"] == 200 and isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user_id"] == citizen.pk and line["client"] == "10.1.2.3"
    assert log_lines("yiwang.security") == []


def test_refused_login_throttle_and_refused_call_are_security_lines(client, citizen, log_lines):
    page = client.post(reverse("portal:login"), {"username": PHONE, "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    assert page.status_code == 200  # the form again, with its error
    [refused] = log_lines("yiwang.security")
    assert refused["level"] == "WARNING" and refused["event"] == "login_failed"
    assert refused["account"] == "138****0001" and refused["client"] == "10.9.9.9"
    assert refused["path"] == "/login/" and "wrong" not in json.dumps(refused)

    anonymous_write = client.post("/api/cases/drafts/", {}, content_type="application/json")
    assert anonymous_write.status_code in {401, 403}
    access = log_lines("yiwang.security")[-1]
    assert access["event"] == "access_refused" and access["status"] == anonymous_write.status_code
    assert access["path"] == "/api/cases/drafts/" and access["method"] == "POST"

    for _ in range(31):  # the progress query allows 30 a minute per address
        answer = client.get("/api/progress/", {"number": "1", "id_last4": "1234"})
    assert answer.status_code == 429
    assert log_lines("yiwang.security")[-1]["event"] == "throttled"


def test_id_numbers_and_phones_are_masked_in_paths_and_messages(client, db, log_lines):
    person_id = make_citizen_id("441602", dt.date(1990, 5, 12), 123)
    client.get(f"/api/persons/{person_id}/?phone={PHONE}")
    logging.getLogger("yiwang.notify").info(
        "[sms → %s] 身份证 %s 的办件 %s", PHONE, ID_NUMBER, "1144160000701003323011700200000202611270001"
    )

    written = "\n".join(json.dumps(line, ensure_ascii=False) for line in log_lines())
    assert person_id not in written and ID_NUMBER not in written and PHONE not in written
    request = log_lines("yiwang.request")[0]
    assert request["path"] == f"/api/persons/{person_id[:6]}********{person_id[-4:]}/"
    [notice] = log_lines("yiwang.notify")
    # the case number, long digits and all, stays readable
    assert (
        notice["message"]
        == "[sms → 138****0001] 身份证 441602********1231 的办件 1144160000701003323011700200000202611270001"
    )


LOG_SOMETHING = (
    "import django, logging; django.setup(); from django.conf import settings; "
    "print([type(h).__name__ + ':' + str(getattr(h, 'backupCount', '')) for h in logging.getLogger().handlers]); "
    "logging.getLogger('yiwang.security').warning('login_failed', extra={'account': '" + ID_NUMBER + "'})"
)


def run_logging(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("YIWANG_LOG")}
    environment |= {"DJANGO_SETTINGS_MODULE": "yiwang.settings", "YIWANG_DATA_DIR": str(tmp_path)} | env
    return subprocess.run(
        [sys.executable, "-c", LOG_SOMETHING], env=environment, capture_output=True, text=True, cwd=tmp_path
    )


def test_outputs_console_rotated_file_and_syslog(tmp_path):
    console = run_logging(tmp_path)
    assert console.stdout.strip() == "['StreamHandler:']"
    assert json.loads(console.stderr)["account"] == "441602********1231"

    log_file = tmp_path / "yiwang.log"
    to_file = run_logging(tmp_path, YIWANG_LOG_FILE=str(log_file))
    assert to_file.stdout.strip() == "['TimedRotatingFileHandler:183']" and to_file.stderr == ""
    assert json.loads(log_file.read_text())["account"] == "441602********1231"
    kept_a_year = run_logging(tmp_path, YIWANG_LOG_FILE=str(log_file), YIWANG_LOG_RETENTION_DAYS="366")
    assert kept_a_year.stdout.strip() == "['TimedRotatingFileHandler:366']"

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(20)
        to_syslog = run_logging(tmp_path, YIWANG_LOG_SYSLOG=f"127.0.0.1:{receiver.getsockname()[1]}")
        assert to_syslog.stdout.strip() == "['SysLogHandler:']", to_syslog.stderr
        datagram = receiver.recv(65536).decode()
    # <priority> then the JSON line: facility local0 (16), warning (4)
    assert datagram.startswith(f"<{16 * 8 + 4}>")
    assert json.loads(datagram[datagram.index("{") :].rstrip("\x00"))["account"] == "441602********1231"
