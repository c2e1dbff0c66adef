"""Two submissions with one Idempotency-Key at the same moment (a client retrying before the first
answer came back): one creates the case (201), the other answers with that same case (200) — never two
cases, never two 201s — for an online application, a draft's submission and a window intake.

Two threads with their own connections race through the API views, in a process of its own: on the
test's PostgreSQL database when the suite runs on PostgreSQL, else on a SQLite file (the test's
in-memory SQLite cannot be shared by threads)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

ROUNDS = 3


def race(post, prefix: str, rounds: int = ROUNDS) -> list[list]:
    """``post(key)`` from two threads at once, ``rounds`` times (keys ``<prefix>-<n>``): the sorted
    answers of each pair."""
    outcomes = []
    for n in range(rounds):
        barrier = threading.Barrier(2)
        answers: list = []

        def one(key: str = f"{prefix}-{n}", barrier=barrier, answers=answers) -> None:
            barrier.wait()
            answers.append(post(key))

        threads = [threading.Thread(target=one) for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        outcomes.append(sorted(answers))
    return outcomes


SCRIPT = textwrap.dedent(
    """
    import json
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0, skip_checks=True)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client
    from api.test_idempotency_race import race
    from catalog.factories import DepartmentFactory, published_version
    from cases.conftest import FORM, PDF, make_person, make_staff
    from yiwang.cases import services
    from yiwang.core.calendar import seed_from_package
    from yiwang.identity.models import StaffRole

    seed_from_package(range(2024, 2028))
    market = DepartmentFactory()
    version = published_version(department=market, materials=[{"name": "申请书", "formats": "pdf"}])
    person = make_person("张三")
    clerk = make_staff("窗口", market, StaffRole.Role.WINDOW_CLERK)
    material = version.materials.get()
    form = json.dumps(dict(FORM, id_number=person.id_number))

    def poster(user, path, fields):
        def post(key):
            client = Client()
            client.force_login(user)
            try:
                data = {**fields(key), f"material_{material.pk}": SimpleUploadedFile("a.pdf", PDF)}
                response = client.post(path(key), data, headers={"Idempotency-Key": key})
                body = response.json()
                return [response.status_code, body.get("number") or body.get("detail")]
            finally:
                connection.close()
        return post

    drafts = {}
    def draft_path(key):
        if key not in drafts:
            drafts[key] = services.save_draft(person.user, item=version.item).pk
        return f"/api/cases/drafts/{drafts[key]}/submit/"

    for n in range(ROUNDS):  # one draft per round, made before its two threads start
        draft_path(f"draft-{n}")
    print(json.dumps({
        "online": race(poster(
            person.user, lambda key: "/api/cases/", lambda key: {"item": version.item.code, "form_data": form}
        ), "online"),
        "draft": race(poster(person.user, draft_path, lambda key: {"form_data": form}), "draft"),
        "window": race(poster(clerk, lambda key: "/api/window/cases/", lambda key: {
            "item": version.item.code, "id_number": person.id_number, "form_data": form}), "window"),
    }))
    """
).replace("ROUNDS", str(ROUNDS))


def _database_url(tmp_path: Path) -> str:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "postgresql":  # the test database, whose rows the test's flush removes
        host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
        return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{host}/{s['NAME']}"
    return f"sqlite:///{tmp_path / 'race.sqlite3'}"


@pytest.mark.django_db(transaction=True)
def test_racing_replays_give_one_201_and_one_200_with_the_same_case(tmp_path):
    from yiwang.cases.models import Case

    tests_dir = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yiwang.settings",
        "YIWANG_DATA_DIR": str(tmp_path),
        "DATABASE_URL": _database_url(tmp_path),
        "YIWANG_MEDIA_ROOT": str(tmp_path / "media"),
        "YIWANG_HUEY_IMMEDIATE": "1",
        "PYTHONPATH": os.pathsep.join([str(tests_dir), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    for kind, pairs in outcomes.items():
        for first, second in pairs:
            assert (first[0], second[0]) == (200, 201), (kind, pairs)
            assert first[1] == second[1], (kind, pairs)  # the same case number
    from django.db import connection

    if connection.vendor == "postgresql":  # the race ran here: one case per pair, no duplicate
        assert Case.objects.exclude(status="draft").count() == 3 * ROUNDS
