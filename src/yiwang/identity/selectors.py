"""Shared reads about people, organisations and staff. Filters are in the query, never in Python."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.ids import is_citizen_id, normalize
from yiwang.core.sm import blind_index

from .models import AgentAuthorization, Department, LegalPerson, NaturalPerson, StaffRole, User, phone_digest


def citizen_account(identifier: str) -> User | None:
    """The account a citizen means by a phone number or an ID number, typed in any form (spaces, lower-case x)."""
    value = normalize(identifier)
    if is_citizen_id(value):
        return User.objects.filter(person__id_digest=blind_index(value)).first()
    if value.isdigit() and len(value) == 11:
        return User.objects.filter(phone_digest=phone_digest(value)).order_by("id").first()
    return None


def login_account(identifier: str) -> User | None:
    """The account a login attempt targets, as the authentication backends find it: a citizen's phone or
    ID number first (PhoneOrIdNumberBackend), else the user name exactly (Django's ModelBackend)."""
    if not identifier:
        return None
    return citizen_account(identifier) or User.objects.filter(username=identifier).first()


def roles_of(user: User) -> frozenset[str]:
    """The role codes (``StaffRole.Role`` values) the user holds in any department."""
    if not user or not user.is_authenticated:
        return frozenset()
    return frozenset(StaffRole.objects.filter(user=user).values_list("role", flat=True))


def is_staff_account(user: User) -> bool:
    """Staff: a role in any department, or the admin's flags. Their sessions are stricter, and their
    passwords are reset by an administrator, never by SMS."""
    return bool(user.is_staff or user.is_superuser or roles_of(user))


def has_role(user: User, role: str, department: Department | None = None) -> bool:
    if not user or not user.is_authenticated:
        return False
    roles = StaffRole.objects.filter(user=user, role=role)
    if department is not None:
        roles = roles.filter(department=department)
    return roles.exists()


def departments_of(user: User, role: str | None = None) -> QuerySet[Department]:
    """The departments in which the user holds ``role`` (any role when None)."""
    if not user or not user.is_authenticated:
        return Department.objects.none()
    roles = StaffRole.objects.filter(user=user)
    if role is not None:
        roles = roles.filter(role=role)
    return Department.objects.filter(pk__in=roles.values("department")).order_by("region_id", "name")


def valid_authorizations(on: dt.date | None = None) -> QuerySet[AgentAuthorization]:
    """Agent authorizations in force on ``on`` (today by default); both ends inclusive, open when empty."""
    on = on or timezone.localdate()
    return AgentAuthorization.objects.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on)).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)
    )


def organisations_for(person: NaturalPerson | None, on: dt.date | None = None) -> QuerySet[LegalPerson]:
    """The organisations that ``person`` may act for (经办人) on ``on`` (today by default)."""
    if person is None:
        return LegalPerson.objects.none()
    return LegalPerson.objects.filter(pk__in=valid_authorizations(on).filter(person=person).values("organisation"))


def may_act_for(person: NaturalPerson | None, organisation: LegalPerson, on: dt.date | None = None) -> bool:
    return person is not None and valid_authorizations(on).filter(person=person, organisation=organisation).exists()


def person_of(user: User) -> NaturalPerson | None:
    """The natural person behind a citizen's account."""
    if not user or not user.is_authenticated:
        return None
    return NaturalPerson.objects.filter(user=user).first()


def names_of_logins(usernames) -> dict[str, str]:
    """Login name → the person's name, in one query, for pages that show who did something (audit
    events record the login). A citizen's login is a phone or ID number: never shown, their name is;
    ``system`` is the platform itself."""
    wanted = {u for u in usernames if u}
    found = {
        username: (display_name or person_name or "")
        for username, display_name, person_name in User.objects.filter(username__in=wanted).values_list(
            "username", "display_name", "person__name"
        )
    }
    out = {u: found.get(u) or _("未登记姓名的用户") for u in wanted}
    if "system" in wanted and "system" not in found:
        out["system"] = _("系统")
    return out


# 申请表预填: the source a form field names (``prefill: person.phone``) → whose attribute fills it. The one
# list of what the platform knows about an applicant; form definitions may name only these.
PREFILL_SOURCES: dict[str, tuple[str, str]] = {
    "person.name": ("person", "name"),
    "person.id_number": ("person", "id_number"),
    "person.phone": ("person", "phone"),
    "person.address": ("person", "address"),
    "org.name": ("org", "name"),
    "org.uscc": ("org", "uscc"),
    "org.legal_representative": ("org", "legal_representative"),
    "org.address": ("org", "address"),
}
# shown masked by default; the real value is filled in server-side at submission (cases services)
MASKED_PREFILL = "person.id_number"


def prefill_values(
    person: NaturalPerson | None, org: LegalPerson | None = None, *, masked: bool = True
) -> dict[str, str]:
    """Source → value of what the platform knows about ``person`` (and the organisation they act for).

    ``masked`` (pages and API answers for the applicant themself): the ID number as ``mask_citizen_id``;
    ``masked=False`` for those entitled to the full number (the window clerk with the applicant in front
    of them). Empty attributes are left out: prefill never puts an empty value over anything.
    """
    owners = {"person": person, "org": org}
    out: dict[str, str] = {}
    for source, (whose, attribute) in PREFILL_SOURCES.items():
        owner = owners[whose]
        if owner is None:
            continue
        value = owner.masked_id if masked and source == MASKED_PREFILL else getattr(owner, attribute, "")
        if value:
            out[source] = str(value)
    return out
