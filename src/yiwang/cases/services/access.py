"""Access to personal data and files of a case, itself on the case's chain (谁查看了 / 查看记录): every
view of unmasked personal data (查看完整信息) and every download of an uploaded material or a
generated document appends an event with the viewer, their post, the kind of data and the file.

Locking contract: as every service of the package, the case row is locked first (``_lock``), so that
the event is appended to the chain in order with the case's other events.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import Forbidden

from .. import selectors
from ..models import Case, CaseDocument, CaseMaterial
from ._base import APPLICANT, Role, _lock, _require_visible, _role_in


def _viewer_role(user, case: Case) -> tuple[str, str]:
    """(post, department name) under which ``user`` sees ``case``."""
    if selectors.is_applicant_of(user, case):
        return APPLICANT, ""
    role = _role_in(user, case.department_id, list(Role))
    if role is not None:
        return role, case.department.name
    task = case.tasks.filter(department__staff_roles__user=user).select_related("department").first()
    if task is not None:
        return _role_in(user, task.department_id, list(Role)) or "", task.department.name
    if case.clerk_id == user.pk:
        return Role.WINDOW_CLERK, ""
    return "", ""


def _record_access(user, case: Case, action: str, **data) -> None:
    role, department = _viewer_role(user, case)
    payload = {key: value for key, value in data.items() if value}
    if department:
        payload["department"] = department
    audit.record(case, action, actor=user, role=role, data=payload)  # no "after": the state is unchanged


def view_personal_data(user, case: Case | int) -> Case:
    """查看完整信息: the handling staff see the applicant's ID numbers and accounts in full, logged.
    Forbidden for anyone else who sees the case (supervisors, the window clerk after the desk)."""
    with transaction.atomic():
        locked = _lock(case)
        _require_visible(user, locked)
        if selectors.disclosure(user, locked) != "handling":
            raise Forbidden(_("只有办理本办件的部门工作人员可以查看完整信息。"))
        kinds = sorted(
            {selectors.personal_kind(spec) for spec in locked.version.form_schema or [] if isinstance(spec, dict)}
            - {None}
        )
        _record_access(user, locked, "personal_data_viewed", what=_("申请表完整信息"), kinds=kinds)
    return locked


def record_download(user, *, material: CaseMaterial | None = None, document: CaseDocument | None = None) -> None:
    """A download of an uploaded material or a generated document, by someone the selectors let see it."""
    target = material or document
    with transaction.atomic():
        case = _lock(target.case_id)
        if material is not None:
            name = material.original_name or material.display_name
            _record_access(user, case, "material_downloaded", what=name, material=material.pk)
        else:
            _record_access(user, case, "document_downloaded", what=document.title, document=document.pk)
