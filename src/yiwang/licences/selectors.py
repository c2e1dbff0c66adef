"""Shared reads of the licence library. Access is decided in the query, never per row in Python:

- the holder (the person, or an organisation they act for) sees everything of their licences;
- staff of the issuing department see the licences it issued;
- staff of a department that the holder allowed to use a licence for a case (LicenceUse) see that
  licence, with the holder's ID number masked; the consent covers the case, not one department, so
  the departments of its parallel stages (并联审批: a task of the case in their department) see it too;
- nobody else sees anything (public verification shows only what the holder chooses to show).
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.errors import NotFound
from yiwang.core.sm import blind_index
from yiwang.identity.models import AgentAuthorization

from .models import Licence, LicenceType
from .services import holder_digests_of, issuer_staff_departments


class Access(StrEnum):
    HOLDER = "holder"
    ISSUER = "issuer"
    REVIEWER = "reviewer"


def _person(user):
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "person", None)


def _base() -> QuerySet[Licence]:
    return Licence.objects.select_related("licence_type", "issuer")


def wallet(user, *, include_history: bool = False) -> QuerySet[Licence]:
    """一人一档/一企一档: the licences held by the user and by the organisations they act for."""
    digests = holder_digests_of(_person(user))
    qs = _base().filter(holder_digest__in=digests)
    if not include_history:
        qs = qs.exclude(status=Licence.Status.SUPERSEDED)
    return qs.order_by("-issue_date", "-id")


def wallet_holders(user) -> list[dict]:
    """The holders whose licences the user's wallet shows: the person, then each organisation they
    act for today (一人一档、一企一档), each with its wallet key."""
    person = _person(user)
    if person is None:
        return []
    today = timezone.localdate()
    holders = [{"name": person.name, "kind": "person", "code": person.masked_id, "digest": person.id_digest}]
    agencies = (
        AgentAuthorization.objects.filter(person=person)
        .exclude(valid_from__gt=today)
        .exclude(valid_until__lt=today)
        .select_related("organisation")
        .order_by("organisation__name")
    )
    holders += [
        {"name": a.organisation.name, "kind": "organisation", "code": a.organisation.uscc,
         "digest": blind_index(a.organisation.uscc)}
        for a in agencies
    ]  # fmt: skip
    return holders


def _used_for_cases_of(departments: set[int]) -> Q:
    """Licences whose holder consented to their use for a case that these departments review: the case's
    own department (the LicenceUse names it) or any department with a task of the case (并联审批)."""
    from yiwang.cases.models import CaseTask  # licences builds on cases; imported here, as in uses_of

    reviewed = CaseTask.objects.filter(department_id__in=departments).values("case_id")
    return Q(uses__department_id__in=departments) | Q(uses__case_id__in=reviewed)


def visible_licences(user) -> QuerySet[Licence]:
    """Every licence version that ``user`` may open."""
    digests = holder_digests_of(_person(user))
    departments = issuer_staff_departments(user)
    if not digests and not departments:
        return Licence.objects.none()
    rule = Q(holder_digest__in=digests) | Q(issuer_id__in=departments)
    if departments:
        rule |= _used_for_cases_of(departments)
    return _base().filter(pk__in=Licence.objects.filter(rule).values("pk"))


def access_of(user, licence: Licence) -> Access | None:
    if licence.holder_digest in holder_digests_of(_person(user)):
        return Access.HOLDER
    departments = issuer_staff_departments(user)
    if licence.issuer_id in departments:
        return Access.ISSUER
    if departments and Licence.objects.filter(_used_for_cases_of(departments), pk=licence.pk).exists():
        return Access.REVIEWER
    return None


def licence_for(user, identifier: str) -> tuple[Licence, Access]:
    """The licence ``user`` may open, and why; NotFound otherwise (its existence is not revealed)."""
    licence = visible_licences(user).filter(identifier=identifier).first()
    access = access_of(user, licence) if licence else None
    if licence is None or access is None:
        raise NotFound(_("未找到该证照，或您无权查看。"))
    return licence, access


def versions_of(licence: Licence) -> list[Licence]:
    """All versions of a licence, newest first."""
    return list(
        Licence.objects.filter(licence_type_id=licence.licence_type_id, number=licence.number).order_by("-version")
    )


def uses_of(licence: Licence) -> list:
    """用证记录, newest first. Consent is recorded while a case is being submitted, before it has its
    number; the number is then read from the case."""
    from yiwang.cases.models import Case

    uses = list(licence.uses.select_related("department"))
    missing = {u.case_id for u in uses if not u.case_number and u.case_id}
    numbers = dict(Case.objects.filter(pk__in=missing).values_list("pk", "number")) if missing else {}
    for use in uses:
        use.case_number = use.case_number or numbers.get(use.case_id) or ""
    return uses


def issued_by(user) -> QuerySet[Licence]:
    """Licences issued by the departments where ``user`` works (staff list)."""
    return _base().filter(issuer_id__in=issuer_staff_departments(user)).exclude(status=Licence.Status.SUPERSEDED)


def active_types() -> QuerySet[LicenceType]:
    return LicenceType.objects.filter(active=True)
