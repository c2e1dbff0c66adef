"""What an application carries: its materials — uploads checked by their content (not their name)
and stored with their SM3 digest, or offers of a material source such as an electronic licence
(免提交) — the completeness check, and the application form validated against the item version.

The helpers run inside the calling service's transaction (submission, intake) and neither lock nor
record events themselves. Files they write are appended to the caller's ``written`` list, so that
``_writing`` deletes them if the transaction fails; a replaced file is deleted only on commit.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog.forms_schema import validate_form_data
from yiwang.catalog.models import ItemVersion, MaterialRequirement
from yiwang.core.errors import InvalidInput, TooLarge, YiwangError
from yiwang.core.sm import sm3_hex
from yiwang.identity.models import NaturalPerson
from yiwang.identity.selectors import MASKED_PREFILL

from .. import material_sources
from ..models import Case, CaseMaterial


@dataclass(frozen=True)
class CheckedUpload:
    data: bytes
    ext: str
    content_type: str
    sm3: str
    original_name: str


FORMAT_NAMES = {"pdf": "PDF", "jpg": "JPG", "png": "PNG", "ofd": "OFD"}
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "ofd": "application/ofd"}


def sniff_format(data: bytes) -> str | None:
    """The real format of a file from its first bytes: pdf, jpg, png or ofd (a ZIP with OFD.xml at its root)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "OFD.xml" in archive.namelist():
                    return "ofd"
        except zipfile.BadZipFile:
            return None
    return None


def allowed_formats(requirement: MaterialRequirement) -> list[str]:
    wanted = []
    for token in requirement.formats.replace("，", ",").replace(" ", ",").lower().split(","):
        token = {"jpeg": "jpg"}.get(token.strip(" ."), token.strip(" ."))
        if token in FORMAT_NAMES and token not in wanted:
            wanted.append(token)
    return wanted or list(FORMAT_NAMES)


def check_upload(upload, requirement: MaterialRequirement, *, field: str | None = None) -> CheckedUpload:
    """Read an uploaded file (a Django File) and check its size and its real format, whatever its name says."""
    field = field or f"material_{requirement.pk}"
    limit = settings.YIWANG_MAX_UPLOAD_BYTES
    chunks, size = [], 0
    if hasattr(upload, "seek"):
        upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
        size += len(chunk)
        if size > limit:
            raise TooLarge(
                _("“%(name)s”文件过大，不能超过 %(mb).0f MB。") % {"name": requirement.name, "mb": limit / 1048576},
                field=field,
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise InvalidInput(_("“%(name)s”是空文件。") % {"name": requirement.name}, field=field)
    kind = sniff_format(data)
    allowed = allowed_formats(requirement)
    if kind not in allowed:
        raise InvalidInput(
            _("“%(name)s”须为 %(formats)s 格式，上传文件的内容不是这些格式。")
            % {"name": requirement.name, "formats": "/".join(FORMAT_NAMES[f] for f in allowed)},
            field=field,
        )
    return CheckedUpload(data, kind, CONTENT_TYPES[kind], sm3_hex(data), (getattr(upload, "name", "") or "")[-200:])


def _store_upload(case: Case, requirement: MaterialRequirement, checked: CheckedUpload, written: list[str]) -> str:
    path = (
        f"cases/{case.region_code}/{case.pk}/r{case.submission_round}-{requirement.pk}-{uuid.uuid4().hex}.{checked.ext}"
    )
    name = default_storage.save(path, ContentFile(checked.data))
    written.append(name)
    return name


def _requirements(version: ItemVersion) -> dict[int, MaterialRequirement]:
    return {m.pk: m for m in version.materials.all()}


def _requirement_key(key) -> int:
    text = str(key)
    if text.startswith("material_"):
        text = text[len("material_") :]
    if not text.isdigit():
        raise InvalidInput(_("材料编号无效：%(k)s") % {"k": key})
    return int(text)


def _put_materials(
    case: Case,
    user,
    files: Mapping | None,
    offers: Mapping | None,
    written: list[str],
    *,
    collect: dict[str, YiwangError] | None = None,
    fresh: bool = False,
) -> None:
    """Attach this round's uploads and chosen offers (requirement id → file / offer reference).
    ``fresh``: the case was created in this transaction, so it has no material to replace.

    An offer is only remembered here; ``_use_offers`` records the holder's consent when the round is
    submitted (after the case has its number). With ``collect`` a bad upload or offer
    does not raise: its error goes there (by field name) and the good ones are stored, so that one
    answer lists every problem and the good files need not be chosen again."""
    reqs = _requirements(case.version)
    errors: dict[str, str] = {}
    new: dict[int, CaseMaterial] = {}  # inserted together at the end: one query, not one per material
    uploaded = {_requirement_key(k) for k, v in (files or {}).items() if v is not None}
    for key, upload in (files or {}).items():
        req_id = _requirement_key(key)
        if req_id not in reqs:
            raise InvalidInput(_("该事项没有编号为 %(k)s 的材料。") % {"k": req_id}, field=f"material_{req_id}")
        if upload is None:
            continue
        requirement = reqs[req_id]
        try:
            checked = check_upload(upload, requirement)
        except YiwangError as exc:
            if collect is None:
                raise
            collect[exc.field or f"material_{req_id}"] = exc
            continue
        if not fresh:
            _replace_material(case, requirement, user)
        if req_id in new:  # the same material twice in one request: the later file wins
            default_storage.delete(new[req_id].file.name)
        new[req_id] = CaseMaterial(
            case=case,
            requirement=requirement,
            round=case.submission_round,
            file=_store_upload(case, requirement, checked, written),
            original_name=checked.original_name,
            sm3=checked.sm3,
            size=len(checked.data),
            content_type=checked.content_type,
            satisfied_by=CaseMaterial.SatisfiedBy.UPLOAD,
            uploaded_by=user if getattr(user, "pk", None) else None,
            region_code=case.region_code,
        )
    for key, reference in (offers or {}).items():
        req_id = _requirement_key(key)
        if req_id not in reqs or not reference:
            continue
        if req_id in uploaded:
            continue  # an upload given for the same material wins
        requirement = reqs[req_id]
        found = _find_offer(case, requirement, str(reference))
        if found is None:
            errors[f"material_{req_id}"] = _("所选的“%(name)s”来源已不可用，请重新选择或上传。") % {
                "name": requirement.name
            }
            continue
        _source, offer = found
        if not fresh:
            _replace_material(case, requirement, user)
        new[req_id] = CaseMaterial(
            case=case,
            requirement=requirement,
            round=case.submission_round,
            satisfied_by=offer.source,
            source_reference=offer.reference,
            source_title=offer.title,
            uploaded_by=user if getattr(user, "pk", None) else None,
            region_code=case.region_code,
        )
    CaseMaterial.objects.bulk_create(new.values())
    if errors and collect is not None:
        collect.update({k: InvalidInput(v, field=k) for k, v in errors.items()})
    elif errors:
        raise InvalidInput(_("申请材料有误，请按提示修改。"), errors=errors)


def _replace_material(case: Case, requirement: MaterialRequirement, user) -> None:
    """Within one round the latest file for a material replaces the earlier one (its file goes on commit)."""
    old = CaseMaterial.objects.filter(case=case, requirement=requirement, round=case.submission_round).first()
    if old is None:
        return
    name = old.file.name
    old.delete()
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def _find_offer(case: Case, requirement: MaterialRequirement, reference: str):
    for source in material_sources.sources_for(requirement.source):
        for offer in source.offers(requirement, person=case.applicant_person, organisation=case.applicant_org):
            if offer.reference == reference:
                return source, offer
    return None


def current_materials(case: Case) -> dict[int, CaseMaterial]:
    """The material in force for each requirement: the one of the latest round that supplied it."""
    latest: dict[int, CaseMaterial] = {}
    for material in (
        case.materials.filter(requirement__isnull=False).select_related("requirement").order_by("round", "id")
    ):
        latest[material.requirement_id] = material
    return latest


# A free upload answers a correction item that names no material (其他问题, e.g. 请补充提供健康证明):
# any of the platform's formats, stored like a material of the round but with the item's label.
@dataclass(frozen=True)
class _FreeUpload:
    name: str
    formats: str = ",".join(FORMAT_NAMES)
    pk: None = None


FREE_UPLOAD = _FreeUpload(name=gettext_lazy("补正材料"))


def _put_free_uploads(case: Case, user, items: list[dict], files: Mapping | None, written: list[str]) -> None:
    """Store this round's uploads for the correction items (index in ``items`` → file) that name no
    material and no form field."""
    for key, upload in (files or {}).items():
        index = int(str(key).removeprefix("extra_")) if str(key).removeprefix("extra_").isdigit() else -1
        if upload is None:
            continue
        if not 0 <= index < len(items) or items[index].get("material") or items[index].get("field"):
            raise InvalidInput(_("补正事项编号无效：%(k)s") % {"k": key}, field=f"extra_{key}")
        checked = check_upload(upload, FREE_UPLOAD, field=f"extra_{index}")
        path = f"cases/{case.region_code}/{case.pk}/r{case.submission_round}-x{index}-{uuid.uuid4().hex}.{checked.ext}"
        name = default_storage.save(path, ContentFile(checked.data))
        written.append(name)
        CaseMaterial.objects.create(
            case=case,
            requirement=None,
            label=(_("其他问题：%(p)s") % {"p": items[index].get("problem", "")})[:600],
            correction_item=index,
            round=case.submission_round,
            file=name,
            original_name=checked.original_name,
            sm3=checked.sm3,
            size=len(checked.data),
            content_type=checked.content_type,
            satisfied_by=CaseMaterial.SatisfiedBy.UPLOAD,
            uploaded_by=user if getattr(user, "pk", None) else None,
            region_code=case.region_code,
        )


def free_materials(case: Case) -> list[CaseMaterial]:
    """The free uploads that answered correction items (其他问题), every round, oldest first."""
    return list(case.materials.filter(requirement__isnull=True).order_by("round", "correction_item"))


def _use_offers(case: Case, user) -> None:
    """Submitting a round: each offer of the round records the holder's consent (``source.use``, inside
    this transaction) and its data is kept for the reviewing department. Raises if no longer valid."""
    for material in (
        case.materials.filter(round=case.submission_round)
        .exclude(satisfied_by=CaseMaterial.SatisfiedBy.UPLOAD)
        .select_related("requirement")
    ):
        found = _find_offer(case, material.requirement, material.source_reference)
        if found is None:
            raise InvalidInput(
                _("所选的“%(name)s”来源已不可用，请重新选择或上传。") % {"name": material.requirement.name},
                field=f"material_{material.requirement_id}",
            )
        source, offer = found
        material.source_data = source.use(offer, case=case, material=material.requirement, actor=user) or dict(
            offer.summary
        )
        material.save(update_fields=["source_data"])


def _check_complete(case: Case) -> None:
    """Every required material the applicant must supply is there (uploaded or satisfied by a source)."""
    missing = missing_materials(case)
    if missing:
        raise InvalidInput(_("必要的申请材料不齐全。"), errors=missing)


def missing_materials(case: Case, have: Mapping[int, CaseMaterial] | None = None) -> dict[str, str]:
    """{material field: message} for each required material the applicant must supply but has not
    (``have``: ``current_materials(case)`` when the caller has it already)."""
    have = current_materials(case) if have is None else have
    missing = {}
    for requirement in case.version.materials.all():
        if not requirement.required or requirement.source == MaterialRequirement.Source.DEPARTMENT:
            continue
        if requirement.pk not in have:
            missing[f"material_{requirement.pk}"] = _("请提供“%(name)s”。") % {"name": requirement.name}
    return missing


# ---------------------------------------------------------------------------------------------
# Form data


def validate_form(version: ItemVersion, data: Mapping | None, person: NaturalPerson | None = None) -> dict:
    """Check the application form against the version's form definition (``catalog.forms_schema``);
    returns the cleaned data or raises InvalidInput with ``errors`` = {field name: message}.

    ``person``: the applicant (or agent) a ``prefill: person.id_number`` field was shown to masked; an
    empty or still masked value there stands for their real number, filled in here."""
    data = dict(data or {})
    if person is not None:
        for spec in version.form_schema or []:
            if isinstance(spec, dict) and spec.get("prefill") == MASKED_PREFILL and spec.get("name"):
                value = str(data.get(spec["name"]) or "").strip()
                if not value or value == person.masked_id:
                    data[spec["name"]] = person.id_number
    return validate_form_data(version.form_schema or [], data)
