"""Who can satisfy a material without an upload? (用证 / 免提交)

``cases`` never imports ``licences`` or ``exchange``; they register a ``MaterialSource`` here at
start-up (in their ``AppConfig.ready``). When an applicant fills a form, the case app asks every
source registered for the material's ``source`` kind ("licence", "shared_data") for offers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Offer:
    """A document the government already holds that satisfies one material."""

    source: str  # "licence" | "shared_data"
    reference: str  # e.g. the licence identifier (证照标识)
    title: str  # shown to the applicant: "食品经营许可证 JY14416020000001"
    summary: dict[str, Any] = field(default_factory=dict)  # fields shown to the reviewing department


class MaterialSource(Protocol):
    kind: str

    def offers(self, material, *, person=None, organisation=None) -> list[Offer]:
        """Valid holdings of ``person``/``organisation`` that satisfy ``material`` (a MaterialRequirement)."""

    def use(self, offer: Offer, *, case, material, actor) -> dict[str, Any]:
        """Record the holder's consent to use ``offer`` for ``case`` (purpose = the case) and return the
        data the reviewing department may see. Raises yiwang.core.errors.Conflict if no longer valid."""


_registry: dict[str, list[MaterialSource]] = {}


def register(source: MaterialSource) -> None:
    bucket = _registry.setdefault(source.kind, [])
    if all(type(s) is not type(source) for s in bucket):
        bucket.append(source)


def sources_for(kind: str) -> list[MaterialSource]:
    return list(_registry.get(kind, []))


def offers_for(material, *, person=None, organisation=None) -> list[Offer]:
    found: list[Offer] = []
    for source in sources_for(material.source):
        found.extend(source.offers(material, person=person, organisation=organisation))
    return found
