"""Notices and decisions of a case as PDF (reportlab, embedded CJK font): 受理回执, 不予受理通知书,
补正告知书, 特别程序告知书, 决定书.

``issue`` is called by the services inside their transaction: it renders the PDF, stores it through
Django's storage (appending the file name to ``written`` so that a rolled-back service deletes it),
records its SM3 digest and seals it with the department's SM2 key (``yiwang.core.keys``, owner = the
department's credit code). The digest also goes into the audit event of the service.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from yiwang.catalog.models import Handling
from yiwang.core import keys
from yiwang.core.pdf import cjk_font, draw_seal, paragraph_text, styles
from yiwang.core.sm import sm3_hex

from .models import Case, CaseDocument, ClockPause, CorrectionRequest
from .selectors import problem_line

APPEAL = gettext_lazy(
    "如不服本决定，可以自收到本文书之日起六十日内依法申请行政复议，或者在六个月内依法向人民法院提起行政诉讼。"
)


def _fmt_date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = timezone.localtime(value)
        return f"{value:%Y年%m月%d日 %H:%M}"
    return f"{value:%Y年%m月%d日}"


def _applicant_line(case: Case) -> str:
    if case.applicant_org_id:
        org = case.applicant_org
        line = f"{org.name}（统一社会信用代码 {org.uscc}）"
        if case.agent_id:
            line += f"，经办人 {case.agent.name}"
        return line
    person = case.applicant_person
    return f"{person.name}（证件号码 {person.masked_id}）"


def staff_name(user) -> str:
    """A staff member as documents name them: the person's name, never the login."""
    return (getattr(user, "display_name", "") or "").strip() or _("工作人员")


def is_immediate(case: Case) -> bool:
    """即办件: decided on the spot; its promised limit of 0 working days is no limit to print."""
    return case.version.handling == Handling.IMMEDIATE or not case.version.promised_days


def _window_row(case: Case) -> tuple[str, str]:
    place = case.version.location or case.department.name
    return (_("受理窗口") if case.channel == "window" else _("办理地点"), place)


def _phone_row(case: Case) -> tuple[str, str]:
    return (_("联系电话"), case.version.consult_phone or case.department.phone or _("见办事指南"))


def _facts(case: Case) -> list[tuple[str, str]]:
    return [
        (_("办件编号"), case.number or ""),
        (_("事项名称"), case.version.name),
        (_("申请人"), _applicant_line(case)),
        (_("实施机构"), case.department.name),
        (_("申报时间"), _fmt_date(case.submitted_at)),
    ]


def _table(rows: Iterable[tuple[str, str]]) -> Table:
    st = styles()
    data = [[Paragraph(paragraph_text(k), st["Cell"]), Paragraph(paragraph_text(v), st["Cell"])] for k, v in rows]
    table = Table(data, colWidths=[32 * mm, 138 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f4f7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _build(title: str, case: Case, body: list) -> bytes:
    cjk_font()
    st = styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        title=title, author=case.department.name, subject=case.number or "",
    )  # fmt: skip
    story = [
        Paragraph(paragraph_text(case.department.name), st["Heading3"]),
        Paragraph(paragraph_text(title), st["Title"]),
        Spacer(1, 4),
    ]
    story += body
    key = keys.active_key(case.department.credit_code)  # the key issue() signs with
    story += [
        Spacer(1, 10),
        _Seal(case.department.name),
        Paragraph(paragraph_text(case.department.name), st["Normal"]),
        Paragraph(_fmt_date(timezone.localdate()), st["Normal"]),
        Spacer(1, 10),
        Paragraph(
            paragraph_text(
                _("本文书由%(d)s加盖电子印章（SM2 电子签名，SM3 摘要，密钥 %(k)s），可在办件页面下载核验。")
                % {"d": case.department.name, "k": key.key_id}
            ),
            st["Small"],
        ),
        Paragraph(
            paragraph_text(
                _("进度查询：%(url)s 输入办件编号和申请人证件号码后四位。")
                % {"url": settings.YIWANG_PUBLIC_URL.rstrip("/") + "/"}
            ),
            st["Small"],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


class _Seal(Flowable):
    """The department's seal mark, at the right above its name and the date (as on a paper notice)."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.width, self.height = 170 * mm, 34 * mm

    def draw(self) -> None:
        draw_seal(self.canv, self.width - 28 * mm, self.height / 2, self.name, _("电子印章"), radius=16 * mm)


def render_receipt(case: Case) -> tuple[str, bytes]:
    st = styles()
    if is_immediate(case):
        limit, due = _("即办件，当场办结"), _("当场办结")
    else:
        limit = _("%(n)d 个工作日") % {"n": case.version.promised_days}
        due = _fmt_date(case.due_date) + (_("（暂定，待节假日安排公布后确定）") if case.due_provisional else "")
    rows = _facts(case) + [
        (_("受理时间"), _fmt_date(case.accepted_at)),
        _window_row(case),
        (_("受理人"), _("系统（视为受理）") if case.deemed_accepted else staff_name(case.accepted_by or case.clerk)),
        _phone_row(case),
        (_("承诺办结时限"), limit),
        (_("办结期限"), due),
    ]
    materials = "；".join(
        f"{m.requirement.name}（{m.get_satisfied_by_display()}）"
        for m in case.materials.select_related("requirement").order_by("requirement__order", "round")
    )
    rows.append((_("已收材料"), materials or _("无")))
    body = [_table(rows), Spacer(1, 8)]
    if case.deemed_accepted:
        body.append(
            Paragraph(
                paragraph_text(
                    _(
                        "本机关未在法定期限内作出受理决定或告知补正，依照《中华人民共和国行政许可法》第三十二条，"
                        "自收到申请材料之日（%(d)s）起即为受理。"
                    )
                    % {"d": _fmt_date(case.clock_start)}
                ),
                st["Normal"],
            )
        )
    else:
        body.append(Paragraph(paragraph_text(_("您的申请材料齐全、符合法定形式，本机关决定予以受理。")), st["Normal"]))
    return _("受理回执"), _build(_("受理回执"), case, body)


def render_refusal(case: Case) -> tuple[str, bytes]:
    st = styles()
    body = [
        _table(_facts(case)),
        Spacer(1, 8),
        Paragraph(paragraph_text(_("经审查，您的申请不予受理，理由如下：")), st["Normal"]),
        Paragraph(paragraph_text(case.refusal_reason), st["Normal"]),
        Spacer(1, 6),
        Paragraph(paragraph_text(str(APPEAL)), st["Normal"]),
    ]
    return _("不予受理通知书"), _build(_("不予受理通知书"), case, body)


def render_correction(case: Case, correction: CorrectionRequest) -> tuple[str, bytes]:
    st = styles()
    rows = [(str(i), _problem_line(item)) for i, item in enumerate(correction.items, start=1)]
    facts = _facts(case) + [
        (_("告知时间"), _fmt_date(correction.requested_at)),
        (_("经办人"), staff_name(correction.requested_by)),
        _window_row(case),
        _phone_row(case),
    ]
    body = [
        _table(facts),
        Spacer(1, 8),
        Paragraph(paragraph_text(_("经审查，您的申请需补正以下全部内容（一次性告知）：")), st["Normal"]),
        Spacer(1, 4),
        _table(rows),
        Spacer(1, 6),
        Paragraph(
            paragraph_text(
                _("请一次性补正上述全部内容后重新提交。补正期间不计入办理时限，收到全部补正材料后重新计算期限。")
            ),
            st["Normal"],
        ),
    ]
    return _("补正告知书"), _build(_("补正告知书"), case, body)


def _problem_line(item: dict) -> str:
    return problem_line(item)


def render_special_procedure(case: Case, pause: ClockPause) -> tuple[str, bytes]:
    st = styles()
    rows = _facts(case) + [
        (_("特别程序"), pause.get_kind_display()),
        (_("理由"), pause.reason),
        (_("开始时间"), _fmt_date(pause.started_at)),
    ]
    body = [
        _table(rows),
        Spacer(1, 8),
        Paragraph(
            paragraph_text(
                _(
                    "依照《中华人民共和国行政许可法》第四十五条，%(kind)s所需时间不计入办理期限。"
                    "特别程序结束后，本机关将告知您并恢复计时。"
                )
                % {"kind": pause.get_kind_display()}
            ),
            st["Normal"],
        ),
    ]
    return _("特别程序告知书"), _build(_("特别程序告知书"), case, body)


def render_decision(case: Case) -> tuple[str, bytes]:
    st = styles()
    approved = case.decision == "approved"
    title = (
        _("准予%(what)s决定书") % {"what": case.version.get_item_type_display()}
        if approved
        else _("不予%(what)s决定书") % {"what": case.version.get_item_type_display()}
    )
    rows = _facts(case) + [
        (_("受理时间"), _fmt_date(case.accepted_at)),
        (_("决定时间"), _fmt_date(case.decided_at)),
        _phone_row(case),
    ]
    body = [_table(rows), Spacer(1, 8)]
    if approved:
        body.append(
            Paragraph(
                paragraph_text(_("经审查，你（单位）的申请符合法定条件、标准，本机关决定准予办理。")), st["Normal"]
            )
        )
        if case.version.result_name:
            body.append(Paragraph(paragraph_text(_("办理结果：%(r)s") % {"r": case.version.result_name}), st["Normal"]))
        if case.decision_reason:
            body.append(Paragraph(paragraph_text(case.decision_reason), st["Normal"]))
    else:
        body += [
            Paragraph(
                paragraph_text(_("经审查，你（单位）的申请不符合法定条件、标准，本机关决定不予办理，理由如下：")),
                st["Normal"],
            ),
            Paragraph(paragraph_text(case.decision_reason), st["Normal"]),
            Spacer(1, 6),
            Paragraph(paragraph_text(str(APPEAL)), st["Normal"]),
        ]
    body.append(Paragraph(paragraph_text(_("依据：%(b)s") % {"b": case.version.legal_basis}), st["Small"]))
    return title, _build(title, case, body)


def issue(case: Case, kind: str, *, written: list[str], **context) -> CaseDocument:
    """Render, store, hash and seal one document of ``kind`` (CaseDocument.Kind) for ``case``."""
    renderers = {
        CaseDocument.Kind.RECEIPT: render_receipt,
        CaseDocument.Kind.REFUSAL: render_refusal,
        CaseDocument.Kind.CORRECTION: render_correction,
        CaseDocument.Kind.SPECIAL_PROCEDURE: render_special_procedure,
        CaseDocument.Kind.DECISION: render_decision,
    }
    title, pdf = renderers[kind](case, **context)
    name = default_storage.save(
        f"cases/{case.region_code}/{case.pk}/documents/{kind}-{uuid.uuid4().hex}.pdf", ContentFile(pdf)
    )
    written.append(name)
    key_id, signature = keys.sign(case.department.credit_code, pdf)
    return CaseDocument.objects.create(
        case=case,
        kind=kind,
        title=title,
        file=name,
        sm3=sm3_hex(pdf),
        size=len(pdf),
        key_id=key_id,
        signature=signature,
        created_at=timezone.now(),
        region_code=case.region_code,
    )


def verify(document: CaseDocument) -> bool:
    """True when the stored file still has its recorded SM3 digest and the department's seal verifies."""
    with default_storage.open(document.file.name, "rb") as fh:
        pdf = fh.read()
    return sm3_hex(pdf) == document.sm3 and keys.verify(document.key_id, pdf, bytes(document.signature))
