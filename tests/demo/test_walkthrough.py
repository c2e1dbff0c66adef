"""The README's walkthrough ("What the demo shows", "Demo accounts"), followed step by step over HTTP on
the demo that `yiwang load-demo` loaded: the accounts the README names are read from the README itself,
so that the README and the demo cannot drift apart again."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse

from yiwang.cases.models import Case, Status
from yiwang.catalog.models import ServiceItem
from yiwang.core.ids import make_uscc
from yiwang.identity.models import User
from yiwang.licences.models import Licence
from yiwang.licences.verification import verify_licence

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
PASSWORD = re.search(r"password for all: `([^`]+)`", README).group(1)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"


def section(title: str) -> str:
    return README.split(title, 1)[1].split("\n#", 1)[0]


def readme_accounts() -> list[str]:
    """Every log-in the README's account table lists: usernames, the expanded ``<dept>_handler`` /
    ``_reviewer`` / ``_approver`` of each department named, the citizens' phones and ID numbers."""
    names: list[str] = []
    for row in section("### Demo accounts").splitlines():
        if not row.startswith("| ") or row.startswith("| role") or row.startswith("|---"):
            continue
        ticked = [t for t in re.findall(r"`([^`]+)`", row) if "<dept>" not in t]
        if "<dept>_handler" in row:
            names += [f"{key}_{role}" for key in ticked for role in ("handler", "reviewer", "approver")]
        else:
            names += ticked + re.findall(r"ID (\d{17}[\dX])", row)
    return names


def log_in(client, username: str) -> User:
    response = client.post(reverse("portal:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, (username, response.content.decode()[:2000])
    return User.objects.get(pk=client.session["_auth_user_id"])


def text(response) -> str:
    return response.content.decode()


def pdf(name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def act(client, case: Case, action: str, data: dict | None = None):
    response = client.post(reverse("portal:staff_action", args=[case.number, action]), data or {})
    assert response.status_code == 302, (action, text(response)[:2000])
    return response


def test_every_account_of_the_readme_table_logs_in(client, loaded_demo):
    accounts = readme_accounts()
    assert len(accounts) == 6 + 17 * 3 + 2 + 2  # admin … window_yc, 17 back offices, two phones, two ID numbers
    for username in accounts:
        log_in(client, username)
        client.post(reverse("portal:logout"))


def test_the_citizen_applies_reusing_his_licence_and_the_named_department_accounts_decide(
    client, loaded_demo, django_capture_on_commit_callbacks
):
    walkthrough = section("## What the demo shows")
    phone = re.search(r"log in as 张伟 \(`(\d{11})`\)", walkthrough).group(1)
    handler, reviewer, approver = re.search(
        r"`(\w+_handler)`\s*→\s*`(\w+_reviewer)`\s*→\s*`(\w+_approver)`", walkthrough
    ).groups()
    item = ServiceItem.objects.get(versions__name="食品经营许可（新办）")
    version = item.current_version

    # 张伟 logs in and opens the form: 营业执照 is satisfied by his own 个体工商户营业执照 (免提交)
    citizen = log_in(client, phone)
    assert citizen.display_name == "张伟"
    page = text(client.get(reverse("portal:apply", args=[item.code])))
    business = Licence.objects.get(holder_digest=citizen.person.id_digest, name="个体工商户营业执照")
    assert f"免提交</strong> — 已关联电子证照 个体工商户营业执照 {business.number}" in page
    assert "本人申请：张伟" in page
    materials = {m.name: m for m in version.materials.all()}
    data = {
        "f_org_name": "源城区张伟小吃店", "f_uscc": make_uscc("92441602", "MA4KW001"), "f_legal_representative": "张伟",
        "f_contact_phone": phone, "f_premises": "河源市源城区建设大道128号首层", "f_business_type": "catering",
        "f_items": "热食类食品制售", "f_area": "60", "f_staff": "3", "f_delivery": "online", "f_pledge": "on",
        "applicant_org": "", "delivery_method": "electronic", "delivery_address": "", "idempotency_key": "readme-1",
        "action": "submit", f"offer_{materials['营业执照'].pk}": "on",
    }  # fmt: skip
    for material in materials.values():
        if material.required and material.source == "applicant":
            data[f"material_{material.pk}"] = pdf(f"{material.name}.pdf")
    response = client.post(reverse("portal:apply", args=[item.code]), data)
    assert response.status_code == 302, text(response)[:3000]
    case = Case.objects.get(submitted_by=citizen, version=version, status=Status.SUBMITTED)
    reused = case.materials.get(requirement=materials["营业执照"])
    assert reused.source_reference == business.identifier  # nothing uploaded for it
    assert case.number in text(client.get(reverse("portal:my_cases")))

    # the department accounts the README names see it on their workbench and act on it
    log_in(client, handler)
    assert case.number in text(client.get(reverse("portal:workbench")))
    act(client, case, "accept")
    act(client, case, "claim")
    act(client, case, "pass", {"comment": "材料齐全，符合法定形式。"})
    log_in(client, reviewer)
    assert case.number in text(client.get(reverse("portal:workbench")))
    act(client, case, "claim")
    act(client, case, "pass", {"comment": "现场核查通过。"})
    log_in(client, approver)
    assert case.number in text(client.get(reverse("portal:workbench")))
    act(client, case, "claim")
    with django_capture_on_commit_callbacks(execute=True):  # 同步签发 runs when the decision commits
        act(client, case, "decide", {"decision": "approve", "reason": "符合法定条件、标准。"})
    case.refresh_from_db()
    assert case.status == Status.APPROVED

    # his 食品经营许可证 is issued at once, verifies, and is in 我的证照
    licence = Licence.objects.get(case_id=case.pk)
    assert licence.name == "食品经营许可证" and licence.data["org_name"] == "源城区张伟小吃店"
    assert verify_licence(licence).genuine
    log_in(client, phone)
    assert licence.number in text(client.get(reverse("portal:my_licences")))


def test_the_window_clerk_takes_in_an_immediate_item_of_another_department_and_decides_it(client, loaded_demo):
    walkthrough = section("## What the demo shows")
    clerk = re.search(r"\*\*Window clerk\*\* — `(\w+)` at 河源市行政服务中心", walkthrough).group(1)
    li_na = re.search(r"李娜 `\d{11}` \(ID (\d{17}[\dX])\)", README).group(1)
    item = ServiceItem.objects.get(versions__name="开具个人所得税纳税记录")  # 即办件 of the 税务局
    version = item.current_version

    log_in(client, clerk)
    found = client.post(reverse("portal:window_desk"), {"id_number": li_na}, follow=True)
    assert "李娜" in text(found) and li_na not in text(found)  # the ID number is shown masked
    search = text(client.get(reverse("portal:window_desk") + "?q=纳税记录"))
    apply_url = reverse("portal:window_apply", args=[item.code])
    assert apply_url in search
    data = {
        "f_applicant_name": "李娜", "f_id_number": li_na, "f_phone": "13800000002", "f_from_month": "2026-01-01",
        "f_to_month": "2026-06-30", "delivery_method": "window", "accept": "on", "idempotency_key": "readme-window",
    }  # fmt: skip
    for material in version.materials.filter(required=True, source="applicant"):
        data[f"material_{material.pk}"] = pdf(f"{material.name}.pdf")
    response = client.post(apply_url, data)
    assert response.status_code == 302, text(response)[:3000]
    case = Case.objects.filter(version=version, clerk__username=clerk).latest("id")
    page = text(client.get(response["Location"]))
    assert "下载受理回执（PDF）" in page and "即办件" in page
    receipt = case.documents.get(kind="receipt")
    printed = client.get(reverse("portal:case_document", args=[case.number, receipt.pk]) + "?inline=1")
    assert b"".join(printed.streaming_content).startswith(b"%PDF")
    act(client, case, "decide", {"decision": "approve", "reason": ""})
    act(client, case, "complete")
    act(client, case, "deliver", {"method": "window"})
    case.refresh_from_db()
    assert case.status == Status.DELIVERED and case.decision == "approved"


def test_the_supervisor_sees_the_red_and_yellow_cases_the_readme_promises(client, loaded_demo):
    walkthrough = section("## What the demo shows")
    promise = re.search(r"\*\*Supervisor\*\* — `(\w+)`.*?(\d+) red and (\d+) yellow", walkthrough, re.S)
    supervisor, red, yellow = promise.group(1), int(promise.group(2)), int(promise.group(3))
    log_in(client, supervisor)
    page = text(client.get(reverse("portal:supervision")))
    assert f"红色 {red} 件" in page and f"黄色 {yellow} 件" in page
    overdue = Case.objects.get(version__name="建筑工程施工许可证核发")
    assert overdue.number in page
    assert f"红色预警 {red} 件" in text(client.get(reverse("portal:workbench")))  # the queues are not all 0
    listed = client.get("/api/supervision/cases/?level=red").json()
    assert listed["count"] == red and overdue.number in {r["number"] for r in listed["results"]}


def test_the_overdue_demo_case_is_marked_for_its_applicant_and_department(client, loaded_demo):
    overdue = Case.objects.get(version__name="建筑工程施工许可证核发")
    mark = re.compile(r'data-limit="red">已超期 \d+ 个工作日<')
    log_in(client, "13800000001")  # 张伟, 经办人 of the company that applied
    assert mark.search(text(client.get(reverse("portal:my_cases"))))
    assert mark.search(text(client.get(reverse("portal:case_detail", args=[overdue.number]))))
    client.logout()
    log_in(client, "zj_handler")
    assert mark.search(text(client.get(reverse("portal:staff_case", args=[overdue.number]))))
