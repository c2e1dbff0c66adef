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
