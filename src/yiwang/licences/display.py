"""How a licence reads to someone entitled to open it (portal pages and the API alike): the holder's
ID number in full only for the holder and the issuer, masked for a reviewing department."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from yiwang.core.timefmt import local_iso, local_text

from .models import Licence
from .selectors import Access
from .services import effective_status
from .verification import validity_text


def holder_code_for(licence: Licence, access: Access | None) -> str:
    return licence.holder_code if access in (Access.HOLDER, Access.ISSUER) else licence.holder_masked


def type_text(licence: Licence, access: Access | None) -> str:
    """The licence type by its name; its 21-character code only for the issuer's staff, who need it."""
    name = licence.licence_type.name if licence.licence_type_id else licence.name
    return f"{name}（{licence.type_code}）" if access == Access.ISSUER else name


def metadata_rows(licence: Licence, access: Access | None) -> list[tuple[str, str]]:
    """GB/T 36903 metadata, as (label, value)."""
    rows = [
        (_("证照名称"), licence.name),
        (_("证照编号"), licence.number),
        (_("证照标识"), licence.identifier),
        (_("证照类型"), type_text(licence, access)),
        (_("持证主体"), licence.holder_name),
        (
            _("持证主体代码"),
            _("%(name)s（%(code)s）")
            % {"name": holder_code_for(licence, access), "code": licence.get_holder_code_type_display()},
        ),
        (_("颁发机构"), _("%(name)s（%(code)s）") % {"name": licence.issuer_name, "code": licence.issuer_code}),
        (_("颁发日期"), licence.issue_date.isoformat()),
        (_("签发时间"), local_text(licence.signed_at)),
        (_("有效期"), validity_text(licence.valid_from, licence.valid_until)),
        (_("管辖属地"), licence.region_code),
        (_("版本"), licence.version_code),
    ]
    if licence.case_number:
        rows.append((_("来源办件"), licence.case_number))
    return rows


def data_rows(licence: Licence) -> list[tuple[str, str]]:
    labels = licence.licence_type.field_labels()
    return [(labels.get(k, k), v) for k, v in licence.data.items()]


def licence_json(licence: Licence, access: Access | None) -> dict[str, Any]:
    """The API representation."""
    status = effective_status(licence)
    return {
        "identifier": licence.identifier,
        "name": licence.name,
        "type_code": licence.type_code,
        "type_name": licence.licence_type.name if licence.licence_type_id else licence.name,
        "number": licence.number,
        "version": licence.version_code,
        "issuer": licence.issuer_name,
        "issuer_code": licence.issuer_code,
        "issue_date": licence.issue_date.isoformat(),
        "holder": licence.holder_name,
        "holder_code": holder_code_for(licence, access),
        "holder_code_type": licence.holder_code_type,
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "region_code": licence.region_code,
        "status": status,
        "status_label": str(Licence.Status(status).label),
        "status_reason": licence.status_reason,
        "data": {label: value for label, value in data_rows(licence)},
        "case_number": licence.case_number,
        "key_id": licence.key_id,
        "signed_at": local_iso(licence.signed_at),
        "payload_sm3": licence.payload_hash,
        "access": str(access) if access else None,
    }
