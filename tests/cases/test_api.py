"""The REST API over real HTTP (live_server + urllib), with the same rules as the services.

Concurrency: on PostgreSQL the "at once" requests really run in parallel threads, each with its own
database connection. The embedded SQLite test database is one in-memory database whose connection
the live server shares with the test, so there the same requests are sent one after another; the
expected outcome (exactly one success) is the same.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from catalog.factories import published_version
from django.core.cache import cache
from django.db import connection

from yiwang.cases.models import Case, PaymentOrder, Status
from yiwang.cases.payments import DevPaymentProvider
from yiwang.core import audit

from .conftest import PDF, PNG
from .http import Api

pytestmark = pytest.mark.django_db(transaction=True)
PARALLEL = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


def application(world, **extra):
    fields = {"item": world.item.code, "form_data": world.form, **extra}
    files = {
        f"material_{world.materials[0].pk}": ("申请书.pdf", PDF),
        f"material_{world.materials[1].pk}": ("场所.png", PNG),
    }
    return fields, files


def at_once(calls):
    """Run the calls together (threads released by one barrier) on PostgreSQL, in turn on SQLite."""
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


def test_submit_over_http_and_idempotent_retry(live_server, world):
    api = Api(live_server.url, world.citizen_user)
    fields, files = application(world)
    first = api.post("/api/cases/", fields=fields, files=files, headers={"Idempotency-Key": "abc-123"})
    assert first.status == 201, first.body.decode()
    # a small answer: the number, the status and the link to the detail, which GET answers in full
    answer = first.json
    assert set(answer) == {"id", "number", "status", "url"}
    assert answer["status"] == "submitted" and answer["number"].startswith(world.item.code)
    assert answer["url"] == f"/api/cases/{answer['number']}/" and first.headers["Location"] == answer["url"]
    case = api.get(answer["url"]).json
    assert case["number"] == answer["number"] and case["item_name"] == "食品经营许可"
    assert {m["name"] for m in case["materials"]} == {"食品经营许可申请书", "营业场所证明"}
    retry = api.post("/api/cases/", fields=fields, files=files, headers={"Idempotency-Key": "abc-123"})
    assert retry.status == 200 and retry.json["number"] == case["number"]
    assert retry.headers["Location"] == answer["url"]
    assert Case.objects.count() == 1
    mine = api.get("/api/cases/").json
    assert [c["number"] for c in mine["results"]] == [case["number"]]
    # the same key with a different application is not a retry: refused, nothing filed
    other_fields, other_files = application(world, form_data={**world.form, "applicant_name": "李四"})
    reused = api.post("/api/cases/", fields=other_fields, files=other_files, headers={"Idempotency-Key": "abc-123"})
    assert reused.status == 409 and reused.json["field"] == "idempotency_key"
    assert case["number"] in reused.json["detail"]
    assert Case.objects.count() == 1


def test_bad_input_is_4xx_naming_the_field(live_server, world, settings):
    api = Api(live_server.url, world.citizen_user)
    fields, files = application(world)
    files[f"material_{world.materials[1].pk}"] = ("场所.pdf", b"just text, not a document")
    bad = api.post("/api/cases/", fields=fields, files=files)
    assert bad.status == 400
    assert bad.json["field"] == f"material_{world.materials[1].pk}" and "格式" in bad.json["detail"]
    fields, files = application(world, form_data={"applicant_name": ""})
    bad_form = api.post("/api/cases/", fields=fields, files=files)
    assert bad_form.status == 400 and "applicant_name" in bad_form.json["errors"]
    settings.YIWANG_MAX_UPLOAD_BYTES = 200
    fields, files = application(world)
    files[f"material_{world.materials[0].pk}"] = ("大.pdf", PDF + b"0" * 500)
    too_large = api.post("/api/cases/", fields=fields, files=files)
    assert too_large.status == 413 and too_large.json["field"] == f"material_{world.materials[0].pk}"
    # nothing was submitted; each failure kept its good file in a draft that the answer names
    assert not Case.objects.exclude(status=Status.DRAFT).exists()
    assert {bad.json["draft"], bad_form.json["draft"], too_large.json["draft"]} == set(
        Case.objects.values_list("pk", flat=True)
    )


def test_one_400_lists_every_field_and_material_error_and_a_retry_continues_the_draft(live_server, world):
    api = Api(live_server.url, world.citizen_user)
    fields = {"item": world.item.code, "form_data": {**world.form, "applicant_name": "", "phone": "12"}}
    files = {f"material_{world.materials[0].pk}": ("申请书.pdf", PDF)}
    key = {"Idempotency-Key": "one-round"}
    bad = api.post("/api/cases/", fields=fields, files=files, headers=key)
    assert bad.status == 400, bad.body.decode()
    assert set(bad.json["errors"]) == {"applicant_name", "phone", f"material_{world.materials[1].pk}"}
    draft = Case.objects.get()
    assert bad.json["draft"] == draft.pk and draft.status == Status.DRAFT
    assert draft.materials.get().original_name == "申请书.pdf"
    # the corrected retry with the same key sends only what was missing, and files the same draft
    fields = {"item": world.item.code, "form_data": world.form}
    retry = api.post(
        "/api/cases/", fields=fields, files={f"material_{world.materials[1].pk}": ("场所.png", PNG)}, headers=key
    )
    assert retry.status == 201, retry.body.decode()
    assert retry.json["id"] == draft.pk and retry.json["status"] == "submitted"
    assert Case.objects.count() == 1 and draft.materials.count() == 2


def test_other_peoples_cases_are_not_found(live_server, world, submit):
    case = submit()
    assert Api(live_server.url, world.stranger_user).get(f"/api/cases/{case.number}/").status == 404
    assert Api(live_server.url, world.other_handler).get(f"/api/cases/{case.number}/").status == 404
    assert Api(live_server.url, world.other_handler).post(f"/api/cases/{case.number}/accept/").status == 404
    assert Api(live_server.url, world.stranger_user).get(f"/api/cases/{case.pk}/").status == 404
    assert Api(live_server.url, world.stranger_user).get("/api/cases/DOES-NOT-EXIST/").status == 404
    anonymous = Api(live_server.url).get(f"/api/cases/{case.number}/")  # not logged in: 401 and its challenge
    assert anonymous.status == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert Api(live_server.url, world.citizen_user).get(f"/api/cases/{case.number}/").status == 200


def test_invalid_transition_is_409_in_chinese(live_server, world, submit):
    case = submit()
    reply = Api(live_server.url, world.handler).post(f"/api/cases/{case.number}/complete/")
    assert reply.status == 409
    assert reply.json["code"] == "conflict" and "不能办结" in reply.json["detail"]


def test_two_staff_accepting_at_once_one_wins(live_server, world, submit):
    case = submit()
    handler, reviewer = Api(live_server.url, world.handler), Api(live_server.url, world.reviewer)
    replies = at_once(
        [
            lambda: handler.post(f"/api/cases/{case.number}/accept/"),
            lambda: reviewer.post(f"/api/cases/{case.number}/accept/"),
        ]
    )
    assert sorted(r.status for r in replies) == [200, 409]
    loser = next(r for r in replies if r.status == 409)
    assert "已受理" in loser.json["detail"]
    assert [e.action for e in audit.history(case)].count("accepted") == 1
    assert Case.objects.get(pk=case.pk).tasks.count() == 1


def test_parallel_submissions_get_unique_numbers(live_server, world):
    fields, files = application(world)
    users = [world.citizen_user, world.stranger_user, world.agent.user]
    calls = [
        (lambda u=u: Api(live_server.url, u).post("/api/cases/", fields=fields, files=files))
        for u in users
        for _ in range(4)
    ]
    replies = at_once(calls)
    assert [r.status for r in replies] == [201] * len(calls), [r.body[:200] for r in replies if r.status != 201]
    numbers = sorted(r.json["number"] for r in replies)
    assert len(set(numbers)) == len(calls)
    assert [n[-4:] for n in numbers] == [f"{i:04d}" for i in range(1, len(calls) + 1)]


def test_parallel_retries_with_one_key_make_one_case(live_server, world):
    fields, files = application(world)
    api = Api(live_server.url, world.citizen_user)
    replies = at_once(
        [
            lambda: api.post("/api/cases/", fields=fields, files=files, headers={"Idempotency-Key": "same"})
            for _ in range(4)
        ]
    )
    assert {r.status for r in replies} <= {200, 201}
    assert len({r.json["number"] for r in replies}) == 1
    assert Case.objects.count() == 1


def test_journey_over_http_to_delivery_and_decision_download(live_server, world, submit):
    case = submit()
    n = case.number
    handler, reviewer, approver = (Api(live_server.url, u) for u in (world.handler, world.reviewer, world.approver))
    citizen = Api(live_server.url, world.citizen_user)
    assert handler.post(f"/api/cases/{n}/accept/").status == 200
    assert handler.get("/api/cases/queue/").json["results"][0]["case"]["number"] == n
    assert handler.post(f"/api/cases/{n}/claim/", json_body={}).json["status"] == "in_review"
    assert handler.post(f"/api/cases/{n}/pass/", json_body={"comment": "材料齐全"}).status == 200
    assert reviewer.post(f"/api/cases/{n}/claim/", json_body={}).status == 200
    back = reviewer.post(f"/api/cases/{n}/return/", json_body={"comment": "请核实场所面积"})
    assert back.status == 200 and [t["name"] for t in back.json["tasks"] if t["status"] == "open"] == ["承办"]
    handler.post(f"/api/cases/{n}/claim/", json_body={})
    handler.post(f"/api/cases/{n}/pass/", json_body={"comment": "已核实"})
    reviewer.post(f"/api/cases/{n}/claim/", json_body={})
    reviewer.post(f"/api/cases/{n}/pass/", json_body={})
    assert approver.post(f"/api/cases/{n}/claim/", json_body={}).status == 200
    decided = approver.post(f"/api/cases/{n}/decide/", json_body={"approve": True, "reason": "符合条件"})
    assert decided.status == 200 and decided.json["status"] == "approved"
    assert handler.post(f"/api/cases/{n}/complete/").status == 200
    delivered = handler.post(
        f"/api/cases/{n}/deliver/",
        json_body={"method": "post", "address": "河源市源城区文明路1号", "carrier": "EMS", "tracking_number": "EM1"},
    )
    assert delivered.status == 200 and delivered.json["delivery"]["tracking_number"] == "EM1"
    detail = citizen.get(f"/api/cases/{n}/").json
    assert detail["status"] == "delivered" and detail["status_display"] == "已送达"
    assert detail["tasks"] == []  # the back office stays inside
    assert all("actor" not in e for e in detail["timeline"])
    assert "退回" in [e["label"].split(" · ")[-1] for e in detail["timeline"]]
    decision = next(d for d in detail["documents"] if d["kind"] == "decision")
    pdf = citizen.get(decision["download"])
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF-")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert Api(live_server.url, world.stranger_user).get(decision["download"]).status == 404


def test_correction_and_resubmission_over_http(live_server, world, submit):
    case = submit()
    n = case.number
    handler = Api(live_server.url, world.handler)
    ask = {"items": [{"material": world.materials[0].pk, "problem": "未签字"}, {"field": "phone", "problem": "空号"}]}
    assert handler.post(f"/api/cases/{n}/request-correction/", json_body=ask).status == 200
    again = handler.post(f"/api/cases/{n}/request-correction/", json_body={"items": [{"problem": "又发现"}]})
    assert again.status == 409 and "一次性告知" in again.json["detail"]
    citizen = Api(live_server.url, world.citizen_user)
    todo = citizen.get(f"/api/cases/{n}/").json["todo"]
    assert todo[0]["kind"] == "correction" and len(todo[0]["items"]) == 2
    reply = citizen.post(
        f"/api/cases/{n}/resubmit/",
        fields={"form_data": {"phone": "13900000000"}},
        files={f"material_{world.materials[0].pk}": ("签字版.pdf", PDF + b"%signed")},
    )
    assert reply.status == 200 and reply.json["status"] == "submitted" and reply.json["submission_round"] == 2


def test_public_progress_query(live_server, world, accepted):
    case = accepted()
    public = Api(live_server.url)
    last4 = world.citizen.id_number[-4:]
    found = public.get(f"/api/progress/?number={case.number}&id_last4={last4}")
    assert found.status == 200
    assert found.json["status_display"] == "已受理" and found.json["item"] == "食品经营许可"
    assert world.citizen.name not in found.body.decode()
    assert public.get(f"/api/progress/?number={case.number}&id_last4=XXXX").status == 404


def test_a_rotating_forwarded_header_from_an_untrusted_peer_is_still_limited(live_server, world, accepted):
    """Anyone may write X-Forwarded-For: from a peer that is not our proxy it changes nothing."""
    case = accepted()
    public = Api(live_server.url)
    url = f"/api/progress/?number={case.number}&id_last4=0000"
    answers = [public.get(url, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status for n in range(31)]
    assert answers == [404] * 30 + [429]
    last4 = world.citizen.id_number[-4:]
    right = public.get(f"/api/progress/?number={case.number}&id_last4={last4}", headers={"X-Forwarded-For": "1.2.3.4"})
    assert right.status == 429


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_budget(live_server, world, accepted, settings):
    settings.YIWANG_TRUSTED_PROXIES = "127.0.0.1,::1"  # the test's own requests come through "the proxy"
    case = accepted()
    public = Api(live_server.url)
    url = f"/api/progress/?number={case.number}&id_last4=0000"
    assert [public.get(url, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status for n in range(31)] == [404] * 31
    same = [public.get(url, headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"}).status for _ in range(31)]
    assert same == [404] * 30 + [429]  # the client's own claim on the left (6.6.6.6) is not its address


def test_fee_payment_through_the_provider(live_server, world):
    version = published_version(
        department=world.market,
        service_object="both",
        fee=Decimal("35.50"),
        materials=[{"name": "申请书", "formats": "pdf"}],
    )
    citizen = Api(live_server.url, world.citizen_user)
    created = citizen.post(
        "/api/cases/",
        fields={"item": version.item.code, "form_data": world.form},
        files={f"material_{version.materials.get().pk}": ("申请书.pdf", PDF)},
    )
    n = created.json["number"]
    handler = Api(live_server.url, world.handler)
    handler.post(f"/api/cases/{n}/accept/")
    order = handler.post(f"/api/cases/{n}/payment/", json_body={}).json["payments"][0]
    assert order["amount"] == "35.50" and order["status"] == "unpaid"
    # a forged callback is refused
    body, headers = DevPaymentProvider().simulate_callback(PaymentOrder.objects.get(number=order["number"]))
    forged = Api(live_server.url).post(
        "/api/payments/callback/dev/", raw=body.replace(b"35.50", b"0.01"), headers=headers
    )
    assert forged.status == 403
    checkout = citizen.post(f"/api/cases/{n}/pay/", json_body={}).json["checkout_url"]
    paid = citizen.post(checkout)
    assert paid.status == 200 and paid.json["status"] == "paid"
    # the provider's own (genuine) notice arriving afterwards is refused as a different payment
    late = Api(live_server.url).post("/api/payments/callback/dev/", raw=body, headers=headers)
    assert late.status == 409
    assert citizen.get(f"/api/cases/{n}/").json["payments"][0]["status"] == "paid"


def test_window_intake_over_http(live_server, world):
    clerk = Api(live_server.url, world.other_clerk)
    fields, files = application(world, id_number=world.citizen.id_number, accept="true")
    reply = clerk.post("/api/window/cases/", fields=fields, files=files, headers={"Idempotency-Key": "w-1"})
    assert reply.status == 201, reply.body.decode()
    assert reply.json["channel"] == "window" and reply.json["status"] == "accepted"
    receipt = next(d for d in reply.json["documents"] if d["kind"] == "receipt")
    assert clerk.get(receipt["download"]).body.startswith(b"%PDF-")
    # a handler cannot take in cases at the window
    assert Api(live_server.url, world.handler).post("/api/window/cases/", fields=fields, files=files).status == 403


def test_schema_documents_the_case_endpoints(live_server, world):
    schema = Api(live_server.url).get("/api/schema/?format=json").json
    for route in ("/api/cases/", "/api/cases/{number}/accept/", "/api/progress/", "/api/payments/callback/{provider}/"):
        assert route in schema["paths"]
    assert Status.SUBMITTED in str(schema)


def test_a_decision_without_a_choice_is_400_naming_the_field(live_server, world, submit):
    case = submit()
    n = case.number
    handler, reviewer, approver = (Api(live_server.url, u) for u in (world.handler, world.reviewer, world.approver))
    handler.post(f"/api/cases/{n}/accept/")
    for api in (handler, reviewer):
        api.post(f"/api/cases/{n}/claim/", json_body={})
        api.post(f"/api/cases/{n}/pass/", json_body={})
    approver.post(f"/api/cases/{n}/claim/", json_body={})
    reply = approver.post(f"/api/cases/{n}/decide/", json_body={"reason": "符合条件"})
    assert reply.status == 400 and "approve" in reply.json["errors"]
    assert "请选择审批决定" in reply.json["errors"]["approve"]
    case.refresh_from_db()
    assert case.decision == "" and case.status == Status.IN_REVIEW


def test_an_extension_decision_without_a_choice_is_400(live_server, world, submit):
    case = submit()
    n = case.number
    handler, approver = Api(live_server.url, world.handler), Api(live_server.url, world.approver)
    handler.post(f"/api/cases/{n}/accept/")
    handler.post(f"/api/cases/{n}/claim/", json_body={})
    handler.post(f"/api/cases/{n}/extension/", json_body={"days": 3, "reason": "需征求意见"})
    extension = case.extensions.get()
    reply = approver.post(f"/api/cases/{n}/extensions/{extension.pk}/decide/", json_body={})
    assert reply.status == 400 and "approve" in reply.json["errors"]
    extension.refresh_from_db()
    assert extension.status == "pending"
