"""Notifications are sent only for committed work; PDFs embed the CJK font."""

import io
import logging

import pytest
from django.db import transaction
from reportlab.platypus import Paragraph, SimpleDocTemplate

from yiwang.core.models import Notification
from yiwang.core.notify import notify
from yiwang.core.pdf import FONT, cjk_font, styles
from yiwang.identity.models import User

pytestmark = pytest.mark.django_db


def test_notification_is_stored_and_sent_on_commit(django_capture_on_commit_callbacks, caplog):
    user = User.objects.create_user("citizen", password="x-long-password-1", phone="13800138000")
    with caplog.at_level(logging.INFO, logger="yiwang.notify"):
        with django_capture_on_commit_callbacks(execute=True):
            note = notify(user, "办件已受理", "您的办件 HY2026000001 已受理。")
            assert Notification.objects.get(pk=note.pk).sent_at is None
        assert "[sms → 138****8000] 办件已受理" in caplog.text  # the log masks the number
    note.refresh_from_db()
    assert note.sent_at is not None and note.recipient == "13800138000"


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_for_a_rolled_back_transaction(caplog):
    with caplog.at_level(logging.INFO, logger="yiwang.notify"), pytest.raises(RuntimeError), transaction.atomic():
        notify(None, "不应发送", "正文", recipient="13900139000")
        raise RuntimeError("the use case failed")
    assert "不应发送" not in caplog.text
    assert not Notification.objects.exists()


def test_pdf_embeds_the_cjk_font():
    assert cjk_font() == FONT
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer)
    doc.build([Paragraph("一网通办 办事指南", styles()["Title"]), Paragraph("正文" * 50, styles()["Normal"])])
    pdf = buffer.getvalue()
    assert pdf.startswith(b"%PDF")
    assert b"/FontFile2" in pdf  # the TrueType program is in the file, not just referenced
    assert FONT.encode() in pdf
