"""What a holder takes away: the licence file (.ylic), the QR code, and the PDF that carries both.

The .ylic file is JSON, one field per line (docs/licences.md, "证照文件格式"): the exact signed
payload and the DER signature in base64, with the key id. The PDF embeds the same file as an
attachment (an uncompressed EmbeddedFile stream), so the PDF alone is enough to verify a licence.
"""

from __future__ import annotations

import base64
import io
import json

import qrcode
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFObject, PDFStream, PDFString
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from yiwang.core.pdf import SEAL_RED, cjk_font, draw_seal, paragraph_text, styles
from yiwang.core.sm import SIGNER_ID
from yiwang.core.timefmt import local_text

from .models import Licence
from .verification import FILE_FORMAT, PDF_QR_TOKEN_TTL, make_qr_token


def public_url(path: str) -> str:
    return settings.YIWANG_PUBLIC_URL.rstrip("/") + path


def keys_url() -> str:
    return public_url(reverse("licences-keys"))


def envelope(licence: Licence) -> dict:
    return {
        "format": FILE_FORMAT,
        "identifier": licence.identifier,
        "algorithm": "SM2-with-SM3",
        "signer_id": SIGNER_ID.decode(),
        "key_id": licence.key_id,
        "keys_url": keys_url(),
        "payload": base64.b64encode(licence.payload.encode("utf-8")).decode(),
        "signature": base64.b64encode(bytes(licence.signature)).decode(),
    }


def envelope_bytes(licence: Licence) -> bytes:
    """The .ylic file: one field per line, so that grep and cut can take it apart for OpenSSL."""
    return (json.dumps(envelope(licence), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def file_name(licence: Licence, ext: str) -> str:
    return f"{licence.number}-{licence.version_code}.{ext}"


def verify_url(licence: Licence, token: str) -> str:
    return public_url(reverse("portal:licence_check", args=[licence.identifier])) + f"?t={token}"


def qr_png(data: str, *, box_size: int = 6) -> bytes:
    img = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=2)
    img.add_data(data)
    img.make(fit=True)
    out = io.BytesIO()
    img.make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()


def qr_data_uri(data: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(data)).decode()


# --- PDF --------------------------------------------------------------------------------------


class _RawName(PDFObject):
    """A PDF name written as is: reportlab's PDFName would escape the # of #2F (a "/" in a MIME type)."""

    def __init__(self, raw: bytes):
        self.raw = raw

    def format(self, document) -> bytes:
        return self.raw


def _embed(c: pdf_canvas.Canvas, name: str, content: bytes, mime: str) -> None:
    """Attach a file to the PDF (Catalog /Names /EmbeddedFiles), uncompressed so that it can also be
    found without a PDF library."""
    doc = c._doc
    stream = PDFStream(
        PDFDictionary(
            {"Type": PDFName("EmbeddedFile"), "Subtype": _RawName(b"/" + mime.encode().replace(b"/", b"#2F"))}
        ),
        content=content,
        filters=[],
    )
    spec = PDFDictionary(
        {
            "Type": PDFName("Filespec"),
            "F": PDFString(name),
            "UF": PDFString(name),
            "Desc": PDFString("Yiwang licence file (signed payload + SM2 signature)"),
            "EF": PDFDictionary({"F": doc.Reference(stream)}),
        }
    )
    names = PDFDictionary({"EmbeddedFiles": PDFDictionary({"Names": PDFArray([PDFString(name), doc.Reference(spec)])})})
    doc.Catalog.Names = doc.Reference(names)


def licence_pdf(licence: Licence) -> bytes:
    """The licence as a printable A4 page: metadata, 照面信息, the seal mark, the QR code, the
    signature facts, and the .ylic file attached."""
    font = cjk_font()
    st = styles()
    out = io.BytesIO()
    c = pdf_canvas.Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(f"{licence.name} {licence.number}")
    c.setAuthor(licence.issuer_name)
    c.setSubject(licence.identifier)
    width, height = A4

    # frame and title
    c.setStrokeColor(SEAL_RED)
    c.setLineWidth(3)
    c.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)
    c.setLineWidth(0.8)
    c.rect(17 * mm, 17 * mm, width - 34 * mm, height - 34 * mm)
    c.setFillColor(colors.black)
    c.setFont(font, 26)
    c.drawCentredString(width / 2, height - 45 * mm, licence.name)
    c.setFont(font, 10)
    c.drawCentredString(width / 2, height - 53 * mm, _("电子证照") + f" · {_('证照编号')} {licence.number}")

    labels = licence.licence_type.field_labels()
    rows = [
        (_("持证主体"), licence.holder_name),
        (_("持证主体代码"), f"{licence.holder_code}（{licence.get_holder_code_type_display()}）"),
        *[(labels.get(k, k), v) for k, v in licence.data.items()],
        (
            _("有效期"),
            f"{licence.valid_from.isoformat()} 至 "
            + (licence.valid_until.isoformat() if licence.valid_until else _("长期")),
        ),
        (_("颁发机构"), f"{licence.issuer_name}（{licence.issuer_code}）"),
        (_("颁发日期"), licence.issue_date.isoformat()),
        (_("管辖属地"), licence.region_code),
        (_("证照标识"), licence.identifier),
        (_("版本"), licence.version_code),
    ]
    if licence.case_number:
        rows.append((_("来源办件"), licence.case_number))
    table = Table(
        [[Paragraph(paragraph_text(k), st["Cell"]), Paragraph(paragraph_text(v), st["Cell"])] for k, v in rows],
        colWidths=[38 * mm, width - 40 * mm - 38 * mm - 12 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f2f1")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    _w, th = table.wrapOn(c, width - 40 * mm, height)
    table.drawOn(c, 26 * mm, height - 62 * mm - th)

    # seal and QR code at the foot
    base_y = 30 * mm
    draw_seal(c, width - 60 * mm, base_y + 34 * mm, licence.issuer_name, _("电子证照专用章"))
    token = make_qr_token(licence, ttl=PDF_QR_TOKEN_TTL)
    c.drawImage(ImageReader(io.BytesIO(qr_png(verify_url(licence, token), box_size=4))), 26 * mm, base_y + 12 * mm,
                width=40 * mm, height=40 * mm)  # fmt: skip
    small = [
        _("扫码核验证照真伪与当前状态，或在核验页上传本 PDF / 附件 .ylic 文件。"),
        _("电子签名：SM2（SM3 摘要，签名者标识 %(id)s），密钥 %(k)s") % {"id": SIGNER_ID.decode(), "k": licence.key_id},
        _("签名原文 SM3：%(h)s") % {"h": licence.payload_hash},
        _("签发时间：%(t)s（北京时间）") % {"t": local_text(licence.signed_at)},
    ]
    c.setFont(font, 7.5)
    for i, line in enumerate(small):
        c.drawString(26 * mm, base_y + 6 * mm - i * 4 * mm, line)

    _embed(c, file_name(licence, "ylic"), envelope_bytes(licence), "application/json")
    c.showPage()
    c.save()
    return out.getvalue()
