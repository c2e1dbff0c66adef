"""空白表格 and 示例样表 of the demo: for each material that is an application form (its name ends in
申请书 or 申请表) a small PDF is generated with reportlab — the blank one lists the item's form fields
with empty boxes, the sample fills them with example values — and given to the catalog with the
material, so that the guide page offers them for download."""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from yiwang.core.pdf import cjk_font, styles

FORM_ENDINGS = ("申请书", "申请表")

SAMPLES = {
    "id_number": "441602199005121231",
    "uscc": "91441602MA4W8K3N96",
    "phone": "13800000001",
    "number": "1",
    "date": "2026-03-01",
    "checkbox": "☑",
}


def _sample(field: dict) -> str:
    kind = field.get("type", "text")
    if kind in SAMPLES:
        return SAMPLES[kind]
    if kind == "select":
        option = (field.get("options") or [""])[0]
        return str(option.get("label", option.get("value")) if isinstance(option, dict) else option)
    return f"（示例）{field.get('label', '')}"[:40]


def form_pdf(title: str, item_name: str, fields: list[dict], *, sample: bool) -> bytes:
    st = styles()
    buffer = io.BytesIO()
    heading = f"{title}（示例样表）" if sample else title
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=heading, leftMargin=18 * mm, rightMargin=18 * mm)
    rows = [
        [Paragraph(f.get("label", f.get("name", "")), st["Cell"]), Paragraph(_sample(f) if sample else "", st["Cell"])]
        for f in fields
    ]
    rows = rows or [[Paragraph("", st["Cell"]), Paragraph("", st["Cell"])]]
    table = Table(rows, colWidths=[55 * mm, 115 * mm], rowHeights=[11 * mm] * len(rows))
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("FONTNAME", (0, 0), (-1, -1), cjk_font())])
    )
    note = "本样表仅示范填写方式，请按本人实际情况填写。" if sample else "请用黑色墨水笔或签字笔填写，字迹清楚。"
    doc.build(
        [
            Paragraph(heading, st["Title"]),
            Paragraph(f"事项：{item_name}", st["Normal"]),
            Spacer(1, 6 * mm),
            table,
            Spacer(1, 8 * mm),
            Paragraph(note, st["Small"]),
            Paragraph("申请人（签名或盖章）：＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日", st["Normal"]),
        ]
    )
    return buffer.getvalue()


def with_guide_files(item_name: str, base_code: str, fields: list[dict], materials: list[dict]) -> list[dict]:
    """The demo materials, the application forms among them with their blank form and sample."""
    stamp = timezone.localdate().strftime("%Y%m%d")
    out = []
    for order, material in enumerate(materials, start=1):
        material = dict(material)
        if material.get("name", "").endswith(FORM_ENDINGS) and not material.get("blank_form"):
            stem = f"{base_code}-{order}-{stamp}"
            material["blank_form"] = ContentFile(
                form_pdf(material["name"], item_name, fields, sample=False), f"{stem}.pdf"
            )
            material["sample"] = ContentFile(form_pdf(material["name"], item_name, fields, sample=True), f"{stem}.pdf")
        out.append(material)
    return out
