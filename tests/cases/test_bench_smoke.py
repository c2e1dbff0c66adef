"""The HTTP benchmarks (bench/web.py, P1–P3) with tiny sizes against a live server, so that they keep
working; their figures mean nothing here and are not looked at — only that every request succeeded
and every row was counted (``make bench`` measures, on PostgreSQL with gunicorn)."""

from __future__ import annotations

import base64

import pytest
from django.db import connection

from bench._http import Target, run_against

from .conftest import PASSWORD, PDF, PNG

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("bench.site")]


def _scalar(sql: str, params: tuple) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def test_the_http_benchmarks_run_and_count_every_row(live_server, world, submit):
    mine = [submit(user=world.stranger_user) for _ in range(3)]
    plan = {
        "password": PASSWORD,
        "submitter_id": world.citizen_user.pk,
        "insert_like": submit().pk,
        "submit": {
            "username": world.citizen_user.username,
            "fields": {"item": world.item.code, "form_data": world.form},
            "uploads": [
                {
                    "field": f"material_{world.materials[0].pk}",
                    "filename": "申请书.pdf",
                    "data": base64.b64encode(PDF).decode(),
                },
                {
                    "field": f"material_{world.materials[1].pk}",
                    "filename": "场所.png",
                    "data": base64.b64encode(PNG).decode(),
                },
            ],
        },  # fmt: skip
        "mine": {"username": world.stranger_user.username, "cases": 3},
        "queue": {"username": world.handler.username},
        "progress": {"number": mine[0].number, "id_last4": mine[0].applicant_id_last4},
    }
    results = run_against(Target(live_server.url, plan, _scalar), "tiny")
    assert [r["id"] for r in results] == ["P1", "P2", "P3", "P3", "P3"]
    for r in results:
        assert r["errors"] == 0, r["notes"]
        assert r["rows_checked"], r
    p1, p2, my_cases = results[0], results[1], results[3]
    assert p1["figure"] > 0 and p1["baseline"] > 0
    assert p2["rows_checked"] == 6  # the surge, each stored once although some were sent twice
    assert my_cases["rows_checked"] == 3
