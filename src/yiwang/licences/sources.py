"""用证 / 免提交: the licence library as a material source for the case app.

Registered at start-up (LicencesConfig.ready) with ``yiwang.cases.material_sources.register``. A
material whose source is "licence" names a licence type in ``source_ref``; an applicant who holds a
valid licence of that type never uploads it: the case app shows the offer, the applicant confirms,
and ``use`` records the consent (LicenceUse) and returns what the reviewing department sees.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.material_sources import Offer
from yiwang.core.errors import InvalidInput
from yiwang.core.sm import blind_index

from .models import Licence
from .services import licence_summary, record_use


def _digests(person=None, organisation=None) -> list[str]:
    digests = []
    if person is not None:
        digests.append(person.id_digest)
    if organisation is not None:
        digests.append(blind_index(organisation.uscc))
    return digests


class LicenceSource:
    kind = "licence"

    def offers(self, material, *, person=None, organisation=None) -> list[Offer]:
        """The valid licences of the material's type held by ``person`` and/or ``organisation``."""
        digests = _digests(person, organisation)
        if not material.source_ref or not digests:
            return []
        today = timezone.localdate()
        held = (
            Licence.objects.select_related("licence_type")
            .filter(type_code=material.source_ref, holder_digest__in=digests, status=Licence.Status.VALID)
            .exclude(valid_until__lt=today)
            .order_by("-issue_date", "-id")
        )
        return [
            Offer(
                source=self.kind,
                reference=lic.identifier,
                title=f"{lic.name} {lic.number}",
                summary=licence_summary(lic),
            )
            for lic in held
        ]

    def use(self, offer: Offer, *, case, material, actor) -> dict[str, Any]:
        """Record the holder's consent for ``case`` and return the licence data for the reviewers.

        The licence must be of the material's type and held by the case's applicant; the actor is the
        holder (or the organisation's agent) online, or the window clerk who took the consent in person.
        """
        licence = Licence.objects.select_related("licence_type").filter(identifier=offer.reference).first()
        if licence is None or licence.type_code != material.source_ref:
            raise InvalidInput(_("所选电子证照不能用于材料“%(m)s”。") % {"m": material.name}, field="materials")
        applicants = _digests(case.applicant_person, case.applicant_org)
        if licence.holder_digest not in applicants:
            raise InvalidInput(_("所选电子证照不属于本办件的申请人。"), field="materials")
        use = record_use(
            licence,
            department=case.department,
            case_id=case.pk,
            case_number=case.number or "",
            material_name=material.name,
            actor=actor,
            holder_is_applicant=True,
        )
        return licence_summary(use.licence)
