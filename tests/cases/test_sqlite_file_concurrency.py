"""The embedded default is a SQLite *file* shared by threads and processes. The test database is an
in-memory one, so this test starts a separate Python process on a fresh SQLite file: two staff accept
the same case at the same moment from two threads (each with its own connection), several times.
Exactly one of each pair must succeed and the other get the 409 conflict — never "database is locked".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0, skip_checks=True)
    from django.db import connection
    from types import SimpleNamespace
    from catalog.factories import DepartmentFactory, published_version
    from cases.conftest import FORM, files_for, make_person, make_staff
    from yiwang.cases import services
    from yiwang.core.errors import Conflict

    market = DepartmentFactory()
    version = published_version(department=market, materials=[{"name": "申请书", "formats": "pdf"}])
    person = make_person("张三")
    world = SimpleNamespace(materials=list(version.materials.all()))
    staff = [make_staff("甲", market, "handler"), make_staff("乙", market, "reviewer")]
    outcomes = []
    for _ in range(5):
        case = services.submit_case(
            person.user, item=version.item, form_data=dict(FORM, id_number=person.id_number), files=files_for(world, 0)
        )
        barrier = threading.Barrier(2)
        pair = []

        def accept(user):
            barrier.wait()
            try:
                services.accept_case(user, case.pk)
                pair.append("ok")
            except Conflict:
                pair.append("conflict")
            except Exception as exc:
                pair.append(type(exc).__name__ + ": " + str(exc))
            finally:
                connection.close()

        threads = [threading.Thread(target=accept, args=(u,)) for u in staff]
        [t.start() for t in threads]
        [t.join() for t in threads]
        outcomes.append(sorted(pair))
    print(json.dumps(outcomes))
    """
)


def test_two_staff_at_once_on_a_sqlite_file(tmp_path):
    tests_dir = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "yiwang.settings",
        "YIWANG_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "YIWANG_MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONPATH": os.pathsep.join([str(tests_dir), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcomes == [["conflict", "ok"]] * 5
