"""The service guide (办事指南) of an item version: its elements in GB/T 39046 order, for the web page
and for the PDF (reportlab with the embedded CJK font from ``yiwang.core.pdf``)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from yiwang.core.pdf import cjk_font, paragraph_text, styles
from yiwang.identity.models import StaffRole

from .models import ItemVersion, MaterialRequirement, OnlineDepth, ResultType


@dataclass(frozen=True)
class GuideMaterial:
    order: int
    name: str
    required: str
    kind: str
    copies: int
    formats: str
    source: str  # shown to the applicant: where the material comes from, and whether it is uploaded
    reusable: bool  # satisfied by a licence or shared data: never uploaded again
    basis: str
    note: str
    blank_form_url: str
    sample_url: str


@dataclass(frozen=True)
class GuideStage:
    order: int
    name: str
    kind: str
    role: str
    department: str
    time_share: int
    parallel_group: str


def days(n: int) -> str:
    return _("即办") if n == 0 else _("%(n)d个工作日") % {"n": n}


def fee_text(version: ItemVersion) -> str:
    if version.fee == Decimal(0):
        return _("不收费")
    return _("%(f)s元") % {"f": f"{version.fee:.2f}".rstrip("0").rstrip(".")}


def visits_text(version: ItemVersion) -> str:
    if version.max_visits == 0:
        return _("0次（零跑动，全程网上办理）")
    return _("最多%(n)d次") % {"n": version.max_visits}


def result_text(version: ItemVersion) -> str:
    if version.result_type == ResultType.NONE:
        return _("无")
    text = version.result_name or version.get_result_type_display()
    if version.result_type == ResultType.LICENCE:
        text += _("（电子证照，同步签发）")
    return text


def summary_rows(version: ItemVersion) -> list[tuple[str, str]]:
    """(element, value) pairs: the basic elements of the guide, in GB/T 39046 order."""
    item = version.item
    rows = [
        (_("事项名称"), version.name),
        (_("实施编码"), item.code),
        (_("基本编码"), item.base_code),
        (_("事项类型"), version.get_item_type_display()),
        (_("行使层级"), version.get_exercise_level_display()),
        (_("实施机构"), item.department.name),
        (_("行政区划"), item.region.name),
        (_("服务对象"), version.get_service_object_display()),
        (_("办件类型"), version.get_handling_display()),
        (_("法定办结时限"), days(version.statutory_days)),
        (_("承诺办结时限"), days(version.promised_days)),
        (_("受理时限"), days(version.acceptance_days)),
        (_("收费标准"), fee_text(version)),
    ]
    if version.fee_basis:
        rows.append((_("收费依据"), version.fee_basis))
    rows += [
        (_("网上办理深度"), version.get_online_depth_display()),
        (_("到现场次数"), visits_text(version)),
        (_("办理结果"), result_text(version)),
        (_("办理地点"), version.location or _("详询咨询电话")),
        (_("办理时间"), version.hours or _("工作日办公时间")),
        (_("咨询电话"), version.consult_phone or "12345"),
        (_("监督投诉电话"), version.complaint_phone or "12345"),
        (_("版本"), _("第%(n)d版，%(d)s起施行") % {"n": version.number, "d": version.effective_from or "—"}),
    ]
    return rows


def material_source(m: MaterialRequirement) -> tuple[str, bool]:
    if m.source == MaterialRequirement.Source.LICENCE:
        # the material's own name says which licence; its type code is for officials (catalog admin)
        return _("电子证照：已有证照的免提交"), True
    if m.source == MaterialRequirement.Source.SHARED_DATA:
        return _("共享数据：部门间调取，免提交"), True
    if m.source == MaterialRequirement.Source.DEPARTMENT:
        return _("部门核发/生成：无需申请人提供"), True
    return _("申请人自备"), False


def material_file_url(material: MaterialRequirement, kind: str, *, pinned: bool = True) -> str:
    """The guide's download of a material's blank form or sample (``kind``: "blank_form" | "sample"),
    for the material's own version (``pinned``) or whatever version is current. Never the storage URL:
    nothing under /media/ is served."""
    version = material.version
    url = reverse("portal:item_material_file", args=[version.item.code, material.pk, kind])
    return f"{url}?version={version.number}" if pinned else url


def materials(
    version: ItemVersion, file_url: Callable[[MaterialRequirement, str], str] = material_file_url
) -> list[GuideMaterial]:
    """The guide's material list; ``file_url(material, "blank_form" | "sample")`` gives the download
    address of a blank form or sample (the portal serves them with their proper name and type)."""
    out = []
    for m in version.materials.all():
        source, reusable = material_source(m)
        out.append(
            GuideMaterial(
                order=m.order,
                name=m.name,
                required=_("必要") if m.required else _("非必要（视情形提供）"),
                kind=m.get_kind_display(),
                copies=m.copies,
                formats=m.formats,
                source=source,
                reusable=reusable,
                basis=m.basis,
                note=m.note,
                blank_form_url=file_url(m, "blank_form") if m.blank_form else "",
                sample_url=file_url(m, "sample") if m.sample else "",
            )
        )
    return out


def stages(version: ItemVersion) -> list[GuideStage]:
    roles = dict(StaffRole.Role.choices)
    return [
        GuideStage(
            order=s.order,
            name=s.name,
            kind=s.get_kind_display(),
            role=str(roles.get(s.role, s.role)),
            department=(s.department or version.item.department).name,
            time_share=s.time_share,
            parallel_group=s.parallel_group,
        )
        for s in version.stages.all()
    ]


def is_zero_visit(version: ItemVersion) -> bool:
    return version.max_visits == 0 and version.online_depth == OnlineDepth.FULLY_ONLINE


# --- PDF ---------------------------------------------------------------------------------------


def _p(text: str, style) -> Paragraph:
    # Paragraph takes mini-HTML: escape the data, keep line breaks
    return Paragraph(paragraph_text(text), style)


def guide_pdf(version: ItemVersion) -> bytes:
    """The printable guide: A4, the CJK font embedded, the item name in the title and the metadata."""
    font = cjk_font()
    st = styles()
    buffer = io.BytesIO()
    title = _("%(name)s 办事指南") % {"name": version.name}
    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(
            18 * mm,
            10 * mm,
            _("一网通办 · %(dept)s · 生成于 %(t)s") % {"dept": version.item.department.name, "t": generated},
        )
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, _("第 %(n)d 页") % {"n": doc.page})
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=version.item.department.name,
        subject=_("政务服务事项办事指南（实施编码 %(c)s）") % {"c": version.item.code},
        creator="Yiwang",
    )
    grid = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f2f1")),
        ]
    )
    story: list = [_p(title, st["Title"]), Spacer(1, 4 * mm)]
    rows = [[_p(label, st["Cell"]), _p(value, st["Cell"])] for label, value in summary_rows(version)]
    story.append(Table(rows, colWidths=[35 * mm, None], style=grid))

    for heading, text in [(_("设定依据"), version.legal_basis), (_("受理条件"), version.conditions)]:
        story += [_p(heading, st["Heading2"]), _p(text, st["Normal"])]

    story.append(_p(_("申请材料"), st["Heading2"]))
    header = [_("序号"), _("材料名称"), _("要求"), _("形式/份数"), _("来源")]
    mrows = [[_p(h, st["Cell"]) for h in header]]
    for m in materials(version):
        name = m.name + (f"\n{m.note}" if m.note else "")
        mrows.append(
            [
                _p(str(m.order), st["Cell"]),
                _p(name, st["Cell"]),
                _p(m.required, st["Cell"]),
                _p(f"{m.kind} {m.copies}" + _("份"), st["Cell"]),
                _p(m.source, st["Cell"]),
            ]
        )
    table_style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f2f1")),
        ]
    )
    if len(mrows) == 1:
        story.append(_p(_("无需提交材料。"), st["Normal"]))
    else:
        story.append(
            Table(mrows, colWidths=[12 * mm, 60 * mm, 24 * mm, 24 * mm, None], style=table_style, repeatRows=1)
        )

    story.append(_p(_("办理流程"), st["Heading2"]))
    if version.process_description:
        story.append(_p(version.process_description, st["Normal"]))
    srows = [[_p(h, st["Cell"]) for h in [_("顺序"), _("环节"), _("办理部门"), _("岗位"), _("时限占比")]]]
    for s in stages(version):
        name = s.name + (_("（并联：%(g)s）") % {"g": s.parallel_group} if s.parallel_group else "")
        srows.append(
            [
                _p(str(s.order), st["Cell"]),
                _p(f"{name}\n{s.kind}", st["Cell"]),
                _p(s.department, st["Cell"]),
                _p(s.role, st["Cell"]),
                _p(f"{s.time_share}%", st["Cell"]),
            ]
        )
    story.append(KeepTogether(Table(srows, colWidths=[12 * mm, 50 * mm, 50 * mm, 24 * mm, None], style=table_style)))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
