"""存量入库, the writing half: one chunk of rows the importer has already checked, in one transaction.

Per chunk a handful of statements whatever its size: the issuers' signing keys (locked, so that a
rotation waits for the chunk and the next chunk moves to the new key), the people and organisations
the holders are, one serial reservation per (type, region), then the licences, their first audit
events and the row outcomes, each written in one statement (``core.bulk.insert_many``: COPY on
PostgreSQL, batched inserts on SQLite). The only work per row is sealing it (payload, SM3, SM2).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.core import audit
from yiwang.core.bulk import insert_many
from yiwang.core.errors import YiwangError
from yiwang.core.models import AuditEvent, SigningKey
from yiwang.identity.models import Department, LegalPerson, NaturalPerson

from .models import HolderCodeType, ImportBatch, ImportRow, Licence
from .seal import Sealer
from .services import Holder, allocate_serials, build_licence, sealer_for
from .services.issuing import _summary

# a checked row: (row number, the arguments of ``build_licence`` or None, 证照编号 as given, reason)
Entry = tuple[int, dict[str, Any] | None, str, str]


class Sealers:
    """Each issuer's sealer for a run: the private key decrypted once, and again only when the key
    changed (rotated by an administrator during the import)."""

    def __init__(self) -> None:
        self.by_issuer: dict[int, Sealer] = {}

    def refresh(self, issuers: list[Department]) -> None:
        """Read the issuers' active keys, locked until the chunk commits (a rotation waits for it);
        a key rotated since the last chunk is replaced by the new one instead of refusing to sign."""
        owners = {d.credit_code: d for d in issuers}
        current: dict[str, SigningKey] = {}
        keys = SigningKey.objects.select_for_update().filter(owner__in=list(owners), active=True)
        for key in keys.order_by("valid_from"):
            current[key.owner] = key  # the newest active key wins
        for code, issuer in owners.items():
            key, sealer = current.get(code), self.by_issuer.get(issuer.pk)
            if key is None:
                self.by_issuer[issuer.pk] = sealer_for(issuer)  # the issuer's first key
            elif sealer is None or sealer.key_id != key.key_id:
                self.by_issuer[issuer.pk] = Sealer(key)
            else:
                sealer.key = key  # same key, its validity as it stands now

    def __getitem__(self, issuer: Department) -> Sealer:
        return self.by_issuer[issuer.pk]


def _link_holders(items: list[dict[str, Any]]) -> None:
    """Link holders to the people and organisations we know, two queries per chunk."""
    people = {h.digest for p in items if (h := p["holder"]).code_type == HolderCodeType.CITIZEN_ID}
    orgs = {h.code for p in items if (h := p["holder"]).code_type == HolderCodeType.USCC}
    persons = {p.id_digest: p for p in NaturalPerson.objects.filter(id_digest__in=list(people))} if people else {}
    legal = {o.uscc: o for o in LegalPerson.objects.filter(uscc__in=list(orgs))} if orgs else {}
    for item in items:
        h = item["holder"]
        person, organisation = persons.get(h.digest), legal.get(h.code)
        if person is not None or organisation is not None:
            item["holder"] = Holder(h.name, h.code, h.code_type, person=person, organisation=organisation)


def _reserve_serials(items: list[dict[str, Any]]) -> None:
    """One reservation per (type, issuer region) for the whole chunk."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault((item["licence_type"].pk, item["issuer"].region_code), []).append(item)
    for group in groups.values():
        first = allocate_serials(group[0]["licence_type"], group[0]["issuer"], len(group))
        for offset, item in enumerate(group):
            item["serial"] = first + offset


def genesis_events(licences: list[Licence], *, actor: str, batch: ImportBatch) -> list[AuditEvent]:
    """The first event of each imported licence's audit chain. Safe without the subject lock
    ``audit.record`` asks for: the licences are created in this very transaction."""
    now = timezone.now()
    label, tag = Licence._meta.label_lower, batch.file_sm3[:16]
    return [
        audit.next_event(
            label,
            str(licence.pk),
            None,
            action="licence.imported",
            actor=actor,
            role="system",
            at=now,
            data={**_summary(licence), "batch": tag},
            region_code=licence.region_code,
        )
        for licence in licences
    ]


def write_chunk(batch: ImportBatch, entries: list[Entry], sealers: Sealers, *, actor: str) -> tuple[int, int]:
    """Write one chunk of checked rows in one transaction; (imported, rejected) of the chunk."""
    today = timezone.localdate()
    outcomes: dict[int, ImportRow] = {
        number: ImportRow(batch=batch, row_number=number, outcome="rejected", number=given[:64], reason=reason)
        for number, item, given, reason in entries
        if item is None
    }
    fresh = [(number, dict(item)) for number, item, _given, _reason in entries if item is not None]
    with transaction.atomic():
        sealers.refresh(list({item["issuer"] for _n, item in fresh}))
        _link_holders([item for _n, item in fresh])
        _reserve_serials([item for _n, item in fresh])
        licences: list[tuple[int, Licence]] = []
        for number, item in fresh:
            status = item.pop("status")
            try:
                licence = build_licence(**item, sealer=sealers[item["issuer"]], origin=Licence.Origin.IMPORT)
            except YiwangError as exc:  # the signing guard (a clock outside the key's validity)
                outcomes[number] = ImportRow(batch=batch, row_number=number, outcome="rejected",
                                             number=item["number"], reason=exc.message)  # fmt: skip
                continue
            if status == Licence.Status.VALID and licence.valid_until and licence.valid_until < today:
                status = Licence.Status.EXPIRED
            licence.status = status
            licences.append((number, licence))
        insert_many(Licence, [lic for _n, lic in licences])
        insert_many(AuditEvent, genesis_events([lic for _n, lic in licences], actor=actor, batch=batch))
        for number, licence in licences:
            outcomes[number] = ImportRow(batch=batch, row_number=number, outcome="imported", number=licence.number,
                                         licence=licence)  # fmt: skip
        insert_many(ImportRow, [outcomes[n] for n in sorted(outcomes)])
        imported = len(licences)
        rejected = len(outcomes) - imported
        ImportBatch.objects.filter(pk=batch.pk).update(
            imported=batch.imported + imported, rejected=batch.rejected + rejected
        )
        batch.imported += imported
        batch.rejected += rejected
    return imported, rejected
