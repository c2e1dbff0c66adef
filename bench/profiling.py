"""Profile one API submission and one "my cases" page in-process (pyinstrument) and count their
queries, on the database of DATABASE_URL with the demo loaded (the plan of ``bench._plan``):

    DATABASE_URL=postgres://…/db .venv/bin/python bench/profiling.py [--repeat 20] [--html DIR]

Not a benchmark (no figure): it shows where a request's time goes, as docs/benchmarks.md reports.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import uuid
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--html", type=Path, default=None, help="write the profiles as HTML into this folder")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from pyinstrument import Profiler

    from bench._plan import plan
    from yiwang.identity.models import User

    found = plan(50)
    submit = found["submit"]
    client = Client()
    client.force_login(User.objects.get(username=submit["username"]))
    mine = Client()
    mine.force_login(User.objects.get(username=found["mine"]["username"]))

    def post():
        data = dict(submit["fields"])
        data["form_data"] = __import__("json").dumps(data["form_data"], ensure_ascii=False)
        for up in submit["uploads"]:
            data[up["field"]] = SimpleUploadedFile(up["filename"], base64.b64decode(up["data"]))
        reply = client.post(reverse("cases-list"), data, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert reply.status_code == 201, reply.content[:300]
        return reply

    def detail(reply):
        return client.get(reply.headers.get("Location") or reverse("cases-detail", args=[reply.json()["number"]]))

    def my_cases():
        reply = mine.get(reverse("cases-list"))
        assert reply.status_code == 200
        return reply

    post()
    my_cases()  # warm caches
    for name, fn in (("submit", post), ("my cases", my_cases)):
        with CaptureQueriesContext(connection) as queries:
            reply = fn()
        print(f"{name}: {len(queries)} queries, {len(reply.content)} bytes answered")
        if name == "submit":
            with CaptureQueriesContext(connection) as queries:
                shown = detail(reply)
            print(f"case detail (GET): {len(queries)} queries, {len(shown.content)} bytes")
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.repeat):
            fn()
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False)[:6000])
        if args.html:
            args.html.mkdir(parents=True, exist_ok=True)
            (args.html / f"{name.replace(' ', '-')}.html").write_text(profiler.output_html())


if __name__ == "__main__":
    sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the bench package, not bench/ itself
    main()
