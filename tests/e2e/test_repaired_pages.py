"""Pages of the demo repaired for a first-time user, seen in the browser (with screenshots):

1. A citizen's licence page shows its signing time in Beijing time, the licence type by its name and
   its status by its label.
2. A handler's case page names people in the timeline (张三（承办人）), never logins.
3. The guide of an item offers its application form's 空白表格 and 示例样表 as named PDF downloads.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from journeys import log_in

from yiwang.cases.models import Case
from yiwang.catalog.models import MaterialRequirement
from yiwang.identity.models import User
from yiwang.licences.models import Licence


@pytest.mark.django_db(transaction=True)
def test_licence_page_timeline_and_guide_downloads(page, shots, demo, tmp_path):
    licence = Licence.objects.filter(holder_person__user__username="13800000001").first()
    log_in(page, "13800000001")
    page.goto(f"{page.base_url}/licences/{licence.identifier}/")
    facts = page.locator("main").inner_text()
    assert timezone.localtime(licence.signed_at).strftime("%Y-%m-%d %H:%M:%S") in facts
    assert licence.licence_type.name in facts and "valid" not in facts
    shots(page, "1-licence")
    page.get_by_role("button", name="退出").click()

    handler = User.objects.get(username="rs_handler")
    case = Case.objects.filter(accepted_by=handler).first()
    log_in(page, "rs_handler")
    page.goto(f"{page.base_url}/workbench/cases/{case.number}/")
    timeline = page.locator("ol.timeline").first.inner_text()
    assert f"{handler.display_name}（承办人）" in timeline and "rs_handler" not in timeline
    shots(page, "2-staff-timeline")
    page.get_by_role("button", name="退出").click()

    material = MaterialRequirement.objects.exclude(blank_form="").select_related("version__item").first()
    page.goto(f"{page.base_url}/items/{material.version.item.code}/")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载空白表格").first.click()
    assert info.value.suggested_filename.endswith("空白表格.pdf")
    saved = tmp_path / "blank.pdf"
    info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    assert page.get_by_role("link", name="查看示例样表").first.is_visible()
    shots(page, "3-guide-downloads")
