"""Two clicks on 提交申请 at the same moment (PostgreSQL: two threads released together; SQLite, whose
test database serialises writers, in turn): one case, and both answers lead to its confirmation."""

from __future__ import annotations

import threading

import pytest
from case_pages import form_post, with_files
from django.db import connection
from django.test import Client
from django.urls import reverse

from yiwang.cases.models import Case, Status

pytestmark = pytest.mark.django_db(transaction=True)
PARALLEL = connection.vendor == "postgresql"


def at_once(calls):
    if not PARALLEL:
        return [call() for call in calls]
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def click(world, url, data):
    def post():
        client = Client()
        client.force_login(world.user)
        response = client.post(url, with_files(world, dict(data)))
        return response.status_code, response.get("Location")

    return post


def test_two_clicks_on_a_new_application(world):
    url = reverse("portal:apply", args=[world.item.code])
    data = form_post(world, idempotency_key="two-clicks")
    answers = at_once([click(world, url, data), click(world, url, data)])
    case = Case.objects.get()
    expected = (302, reverse("portal:case_submitted", args=[case.number]))
    assert answers == [expected, expected]


def test_two_clicks_on_a_draft(world):
    client = Client()
    client.force_login(world.user)
    client.post(reverse("portal:apply", args=[world.item.code]), form_post(world, action="save"))
    draft = Case.objects.get()
    url = reverse("portal:draft", args=[draft.pk])
    data = form_post(world, idempotency_key="draft-clicks")
    answers = at_once([click(world, url, data), click(world, url, data)])
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and Case.objects.count() == 1
    expected = (302, reverse("portal:case_submitted", args=[draft.number]))
    assert answers == [expected, expected]
