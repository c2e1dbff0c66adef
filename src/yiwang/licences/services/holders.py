"""Holders of licences (持证主体): who holds a licence, whose staff issued it, whom to notify."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.errors import Forbidden, InvalidInput
from yiwang.core.ids import mask_citizen_id, validate_citizen_id, validate_uscc
from yiwang.core.sm import blind_index
from yiwang.identity.models import AgentAuthorization, LegalPerson, NaturalPerson, StaffRole

from ..models import HolderCodeType, Licence


@dataclass(frozen=True)
class Holder:
    """持证主体: a name and a code (citizen ID 111 or credit code 001), linked to our records if known."""

    name: str
    code: str
    code_type: str
    person: NaturalPerson | None = None
    organisation: LegalPerson | None = None

    @classmethod
    def of(cls, party: NaturalPerson | LegalPerson) -> Holder:
        if isinstance(party, NaturalPerson):
            return cls(party.name, party.id_number, HolderCodeType.CITIZEN_ID, person=party)
        return cls(party.name, party.uscc, HolderCodeType.USCC, organisation=party)

    @classmethod
    def from_code(cls, name: str, code: str, code_type: str) -> Holder:
        """A holder named by code (an import row), the code validated; the importer links the people
        and organisations we know for a whole chunk at once."""
        name = (name or "").strip()
        if not name:
            raise InvalidInput(_("请填写持证主体名称。"), field="holder")
        if code_type == HolderCodeType.CITIZEN_ID:
            return cls(name, validate_citizen_id(code, field="holder_code"), code_type)
        if code_type == HolderCodeType.USCC:
            return cls(name, validate_uscc(code, field="holder_code"), code_type)
        raise InvalidInput(
            _("持证主体代码类型应为 111（身份证）或 001（统一社会信用代码）。"), field="holder_code_type"
        )

    @cached_property  # a keyed SM3: computed once, not at every use (the importer uses it thrice)
    def digest(self) -> str:
        return blind_index(self.code)

    @property
    def masked(self) -> str:
        return mask_citizen_id(self.code) if self.code_type == HolderCodeType.CITIZEN_ID else self.code


def holder_digests_of(person: NaturalPerson | None, *, today: dt.date | None = None) -> list[str]:
    """The wallet keys of a person: their own ID number and the organisations they act for today."""
    if person is None:
        return []
    today = today or timezone.localdate()
    orgs = (
        AgentAuthorization.objects.filter(person=person)
        .exclude(valid_from__gt=today)
        .exclude(valid_until__lt=today)
        .values_list("organisation__uscc", flat=True)
    )
    return [person.id_digest, *(blind_index(uscc) for uscc in orgs)]


def is_holder(user, licence: Licence) -> bool:
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    return licence.holder_digest in holder_digests_of(person)


def issuer_staff_departments(user) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(StaffRole.objects.filter(user=user).values_list("department_id", flat=True))


def _check_issuer_staff(actor, licence: Licence) -> None:
    """Staff actions need a role in the issuing department; ``None`` or a string is the system."""
    if actor is None or isinstance(actor, str):
        return
    if licence.issuer_id not in issuer_staff_departments(actor):
        raise Forbidden(_("只有颁发机构的工作人员可以办理此操作。"))


def holder_recipients(licence: Licence) -> list[tuple[Any, str]]:
    """(user or None, phone) to notify about a licence: the person, or the organisation's agents."""
    if licence.holder_code_type == HolderCodeType.CITIZEN_ID:
        person = licence.holder_person or NaturalPerson.objects.filter(id_digest=licence.holder_digest).first()
        return [(person.user, person.phone)] if person else []
    today = timezone.localdate()
    agents = (
        AgentAuthorization.objects.filter(organisation__uscc=licence.holder_code)
        .exclude(valid_until__lt=today)
        .select_related("person__user")
    )
    return [(a.person.user, a.person.phone) for a in agents]
