"""Private helpers shared by the modules of ``yiwang.cases.services``: the transaction that cleans up
its files, the case row lock, state and role checks (the role sets themselves are in
``yiwang.cases.selectors``, which reads with them too), the audit record and the applicant's
notification. Nothing here is called from outside the package.

Locking contract: inside a service's transaction (``_writing()`` or ``transaction.atomic()``),
``_lock(case)`` is the first read of the case; it returns the row locked and read fresh, so that the
state checks (``_expect``) see what a concurrent writer committed and of two people acting at once
exactly one succeeds. ``_notify_applicant`` goes through ``yiwang.core.notify``, which sends on commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import Conflict, Forbidden, NotFound
from yiwang.core.notify import notify
from yiwang.identity.models import StaffRole

from .. import selectors
from ..models import Case, Channel

Role = StaffRole.Role

APPLICANT = "applicant"
SYSTEM = "system"


@contextmanager
def _writing() -> Iterator[list[str]]:
    """One transaction; names of files written inside are deleted again if it fails."""
    written: list[str] = []
    try:
        with transaction.atomic():
            yield written
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise


def _lock(case: Case | int) -> Case:
    """The case row, locked for this transaction, read fresh (after any concurrent writer committed)."""
    pk = case.pk if isinstance(case, Case) else case
    locked = Case.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound(_("未找到该办件。"))
    return locked


def _state_error(case: Case, doing: str) -> Conflict:
    return Conflict(
        _("办件当前状态为“%(status)s”，不能%(doing)s。如页面不是最新，请刷新后查看。")
        % {"status": case.get_status_display(), "doing": doing}
    )


def _expect(case: Case, states, doing: str) -> None:
    if case.status not in states:
        raise _state_error(case, doing)


def _role_in(user, department_id: int, roles) -> str | None:
    return (
        StaffRole.objects.filter(user=user, department_id=department_id, role__in=list(roles))
        .order_by("role")
        .values_list("role", flat=True)
        .first()
    )


def _require_visible(user, case: Case) -> None:
    if not selectors.visible_cases(user).filter(pk=case.pk).exists():
        raise NotFound(_("未找到该办件。"))


def _as_applicant(user, case: Case) -> str:
    """The applicant (or agent acting for the applicant organisation) of ``case``; else NotFound."""
    if not selectors.is_applicant_of(user, case):
        _require_visible(user, case)
        raise Forbidden(_("只有申请人本人或其经办人可以办理此操作。"))
    return APPLICANT


def _as_staff(user, case: Case, roles=selectors.REVIEW_ROLES, *, clerk_may: bool = False) -> str:
    """The role under which ``user`` acts on ``case`` in its department; the window clerk who took the
    case in also may when ``clerk_may``. NotFound when the case is not theirs to see."""
    _require_visible(user, case)
    if clerk_may and case.channel == Channel.WINDOW and case.clerk_id == user.pk:
        return Role.WINDOW_CLERK
    role = _role_in(user, case.department_id, roles)
    if role is None:
        raise Forbidden(_("您在本部门没有办理此操作的岗位权限。"))
    return role


def _record(case: Case, action: str, *, actor, role: str, before: str, note: str = "", **data: Any) -> None:
    payload = {"before": before, "after": case.status, **data}
    payload.setdefault("department", case.department.name)
    if note:
        payload["note"] = note
    audit.record(case, action, actor=actor, role=role, data=payload)


def _applicant_contact(case: Case) -> tuple[Any, str]:
    for person in (case.applicant_person, case.agent):
        if person is not None and person.user_id:
            return person.user, person.phone
    if case.channel == Channel.ONLINE and case.submitted_by_id:
        return case.submitted_by, ""
    person = case.applicant_person or case.agent
    return None, person.phone if person else ""


def _notify_applicant(case: Case, subject: str, body: str) -> None:
    user, phone = _applicant_contact(case)
    if user is None and not phone:
        return
    notify(user, subject, f"【一网通办】{body}（办件编号 {case.number}）", recipient=phone)


def _now_and_today():
    now = timezone.now()
    return now, timezone.localdate(now)
