"""用证: the holder's consent that a department uses a licence for one case, and the summary it sees."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import Conflict, Forbidden
from yiwang.identity.models import Department

from ..models import Licence, LicenceUse
from ._base import _lock, effective_status
from .holders import (
    is_holder,
    issuer_staff_departments,
)


def licence_summary(licence: Licence) -> dict[str, Any]:
    """What a reviewing department sees inline for a reused licence (holder code masked)."""
    labels = licence.licence_type.field_labels()
    return {
        "identifier": licence.identifier,
        "name": licence.name,
        "number": licence.number,
        "issuer": licence.issuer_name,
        "issue_date": licence.issue_date.isoformat(),
        "holder": licence.holder_name,
        "holder_code": licence.holder_masked,
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "status": licence.status,
        "data": {labels.get(k, k): v for k, v in licence.data.items()},
    }


def record_use(
    licence: Licence | str, *, department: Department, case_number: str, actor, case_id: int | None = None,
    material_name: str = "", holder_is_applicant: bool = False,
) -> LicenceUse:  # fmt: skip
    """用证: the holder (or an agent of the holding organisation) consents that ``department`` uses the
    licence for one case. ``holder_is_applicant``: the caller has checked that the holder is the case's applicant,
    so a window clerk may record the consent given in person. Raises Conflict if no longer valid."""
    with transaction.atomic():
        locked = _lock(licence)
        by_user = actor is not None and not isinstance(actor, str)
        if by_user and not is_holder(actor, locked) and not (holder_is_applicant and issuer_staff_departments(actor)):
            raise Forbidden(_("只有持证人（或其经办人）可以授权使用该证照。"))
        if effective_status(locked) != Licence.Status.VALID:
            raise Conflict(
                _("%(name)s（%(number)s）当前状态为“%(s)s”，不能用于办件，请上传其他材料。")
                % {"name": locked.name, "number": locked.number, "s": Licence.Status(effective_status(locked)).label}
            )
        use = LicenceUse.objects.create(
            licence=locked,
            department=department,
            case_id=case_id,
            case_number=case_number,
            material_name=material_name,
            purpose=_("办件 %(n)s") % {"n": case_number or f"#{case_id}"},
            granted_by=actor if actor is not None and not isinstance(actor, str) else None,
        )
        audit.record(
            locked,
            "licence.used",
            actor=actor,
            role="holder",
            data={"department": department.credit_code, "case": case_number, "material": material_name},
        )
    return use
