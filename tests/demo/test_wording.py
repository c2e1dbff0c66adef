"""The words the demo shows people: notices and SMS texts composed from several pieces keep their
punctuation ("。；", "。。", "；。" never appear)."""

from __future__ import annotations

import re

from yiwang.cases.models import Case
from yiwang.core.models import AuditEvent, Notification

DOUBLED = re.compile(r"。；|。。|；。|；；|。）|。，")


def test_demo_notifications_and_timeline_notes_have_no_doubled_punctuation(loaded_demo):
    bodies = list(Notification.objects.values_list("body", flat=True))
    # the correction notice of the demo lists several items, the denial quotes a reason ending in 。
    assert any("需补正" in b and b.count("；") >= 1 for b in bodies)
    assert any("不予办理：" in b for b in bodies)
    notes = [e.data.get("note", "") for e in AuditEvent.objects.filter(subject_type="cases.case")]
    bad = [t for t in bodies + notes if DOUBLED.search(t)]
    assert bad == []
    accepted = [b for b in bodies if "已受理" in b]
    assert accepted and not any("已受理。已受理" in b for b in accepted)
    assert Case.objects.exists()


def test_the_staff_timeline_names_people_not_logins(client, loaded_demo):
    from django.urls import reverse

    from yiwang.identity.models import User

    handler = User.objects.get(username="rs_handler")
    case = Case.objects.filter(department__name="河源市人力资源和社会保障局", accepted_by=handler).first()
    client.force_login(handler)
    page = client.get(reverse("portal:staff_case", args=[case.number])).content.decode()
    assert f"{handler.display_name}（承办人）" in page and "rs_handler（" not in page
    assert f"{case.applicant_person.name}（申请人）" in page and "13800000002（申请人）" not in page


def test_the_licence_page_names_the_licence_type(client, loaded_demo):
    from django.urls import reverse

    from yiwang.licences.models import Licence

    licence = Licence.objects.filter(holder_person__user__username="13800000001").first()
    client.force_login(licence.holder_person.user)
    page = client.get(reverse("portal:licence_detail", args=[licence.identifier])).content.decode()
    assert f"<dt>证照类型</dt><dd>{licence.licence_type.name}</dd>" in page
    assert licence.type_code not in page.replace(licence.identifier, "")  # only inside the 证照标识


def test_a_reused_licences_status_is_shown_by_its_label():
    from yiwang.portal.views.cases._shared import _source_rows

    rows = dict(_source_rows({"name": "食品经营许可证", "status": "valid", "data": {"经营场所": "源城区"}}))
    assert rows["状态"] == "有效" and rows["经营场所"] == "源城区"
