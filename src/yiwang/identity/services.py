"""Use cases of identity: citizens and organisations, agents (经办人) and staff roles.

Every function validates and normalises its input first (nothing is written when anything is wrong:
``InvalidInput`` lists every bad field in ``errors``), writes in one transaction and records an audit
event. ID numbers never appear in clear in audit data: masked only.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.ids import mask_address, mask_citizen_id, mask_phone, normalize, validate_citizen_id, validate_uscc
from yiwang.core.notify import notify
from yiwang.core.sm import blind_index

from .models import (
    AgentAuthorization,
    Department,
    LegalPerson,
    NaturalPerson,
    PasswordResetCode,
    Region,
    StaffRole,
    User,
    phone_digest,
)
from .selectors import citizen_account, is_staff_account

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
NAME_MAX = 60
# roles that work in the admin site (the others work in the portal's workbench)
ADMIN_ROLES = {StaffRole.Role.CATALOG_MANAGER, StaffRole.Role.ADMINISTRATOR}
RESET_CODE_DIGITS = 6
RESET_CODE_INTERVAL_SECONDS = 60  # between two codes to one number


# --- validation helpers ---------------------------------------------------------------------------


def normalize_phone(value: str, *, field: str = "phone", required: bool = True) -> str:
    """An 11-digit mainland mobile number; spaces, dashes, full-width digits and +86 are accepted."""
    phone = normalize(value)
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    if not phone:
        if required:
            raise InvalidInput(_("请填写手机号码。"), field=field)
        return ""
    if not PHONE_RE.match(phone):
        raise InvalidInput(_("手机号码应为以1开头的11位数字。"), field=field)
    return phone


# besides letters of any script (汉字 of every CJK block, Latin, Cyrillic, Tibetan, Uyghur …) and their
# combining marks: the separators that names on ID cards and passports use — the middle dot of
# ethnic-minority and foreign names in Chinese (·, and its look-alikes typed by input methods),
# space, hyphen, apostrophe, full stop (J. Smith), the Tibetan syllable mark ་ — and 〇, a character of
# Chinese names that Unicode counts as a number
NAME_SEPARATORS = frozenset("·•・‧．. -‐'’་〇")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a person's name (the characters it must not have), or None."""
    bad = [c for c in dict.fromkeys(name) if c not in NAME_SEPARATORS and unicodedata.category(c)[0] not in "LM"]
    if not bad:
        return None
    shown = "、".join(f"“{c}”" if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}" for c in bad[:5])
    return _("姓名含有不允许的字符：%(c)s。姓名只能由汉字、字母、间隔号“·”、空格、连字符“-”和撇号组成。") % {"c": shown}


def _clean_name(
    value: str,
    *,
    field: str = "name",
    label: str | None = None,
    max_length: int = NAME_MAX,
    person: bool = True,
) -> str:
    """A name with its spaces collapsed; ``person``: a natural person's, of the characters a name has."""
    label = label or _("姓名")
    name = " ".join((value or "").split())
    if not name:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, field=field)
    if len(name) > max_length:
        raise InvalidInput(_("%(label)s不能超过%(n)d个字。") % {"label": label, "n": max_length}, field=field)
    problem = name_problem(name) if person else None
    if problem:
        raise InvalidInput(problem, field=field)
    return name


class _Errors:
    """Collects InvalidInput per field, so that a form can show every problem at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, func, *args, **kwargs) -> Any:
        try:
            return func(*args, **kwargs)
        except InvalidInput as exc:
            self.errors.setdefault(exc.field or "__all__", exc.message)
            return None

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.errors:
            field, message = next(iter(self.errors.items()))
            raise InvalidInput(message, field=field, errors=dict(self.errors))


# --- natural persons and citizens' accounts ------------------------------------------------------


def find_person_by_id_number(id_number: str) -> NaturalPerson | None:
    """The person with this citizen ID number, found by its blind index (the number is encrypted)."""
    number = validate_citizen_id(id_number)
    return NaturalPerson.objects.filter(id_digest=blind_index(number)).first()


def register_citizen(*, name: str, id_number: str, phone: str, password: str, actor: Any = None) -> User:
    """Open an online account for a citizen: a User (log in by phone or ID number) and its person.

    A person already registered at a window (without account) gets the account, provided the name
    matches. Raises InvalidInput naming every bad field, or Conflict when the phone number or the ID
    number already has an account.
    """
    errors = _Errors()
    name = errors.check(_clean_name, name)
    number = errors.check(validate_citizen_id, id_number)
    phone = errors.check(normalize_phone, phone)
    if phone and User.objects.filter(Q(phone_digest=phone_digest(phone)) | Q(username=phone)).exists():
        raise Conflict(_("该手机号码已注册，请直接登录。"), field="phone")
    user = User(username=phone or "", phone=phone or "", display_name=name or "")
    if not password:
        errors.add("password", _("请设置密码。"))
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors.add("password", " ".join(exc.messages))
    errors.raise_if_any()

    try:
        with transaction.atomic():
            person = NaturalPerson.objects.select_for_update().filter(id_digest=blind_index(number)).first()
            if person and person.user_id:
                raise Conflict(_("该公民身份号码已注册账号，请直接登录。"), field="id_number")
            if person and person.name != name:
                raise InvalidInput(_("姓名与该公民身份号码登记的姓名不一致。"), field="name")
            user.set_password(password)
            user.save()
            if person:
                person.user = user
                person.phone = person.phone or phone
                person.save()
            else:
                person = NaturalPerson.objects.create(name=name, id_number=number, phone=phone, user=user)
            audit.record(
                person,
                "person.account_opened",
                actor=actor or user,
                data={"name": name, "id_number": mask_citizen_id(number), "phone": mask_phone(phone)},
            )
    except IntegrityError:
        # a concurrent registration of the same phone or ID number won the race
        raise Conflict(_("该手机号码或公民身份号码刚刚已被注册，请直接登录。"), field="id_number") from None
    return user


def register_person(
    *,
    name: str,
    id_number: str,
    phone: str = "",
    address: str = "",
    region: Region | None = None,
    actor: Any = None,
) -> NaturalPerson:
    """Register a natural person without an account (a window clerk serving a walk-in applicant)."""
    errors = _Errors()
    name = errors.check(_clean_name, name)
    number = errors.check(validate_citizen_id, id_number)
    phone = errors.check(normalize_phone, phone, required=False)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            if NaturalPerson.objects.filter(id_digest=blind_index(number)).exists():
                raise Conflict(_("该公民身份号码已登记，请直接查找该自然人。"), field="id_number")
            person = NaturalPerson.objects.create(
                name=name, id_number=number, phone=phone, address=(address or "").strip(), region=region
            )
            audit.record(
                person,
                "person.registered",
                actor=actor,
                data={"name": name, "id_number": mask_citizen_id(number), "phone": mask_phone(phone)},
            )
    except IntegrityError:
        raise Conflict(_("该公民身份号码已登记，请直接查找该自然人。"), field="id_number") from None
    return person


def update_person(
    person: NaturalPerson,
    *,
    name: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    region: Region | None = None,
    assurance_level: int | None = None,
    actor: Any = None,
) -> NaturalPerson:
    """Correct a person's name, phone, address, region or real-name assurance level (not the ID number)."""
    errors = _Errors()
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = errors.check(_clean_name, name)
    if phone is not None:
        changes["phone"] = errors.check(normalize_phone, phone, required=False)
    if address is not None:
        changes["address"] = address.strip()
    if region is not None:
        changes["region"] = region
    if assurance_level is not None:
        if assurance_level not in (1, 2, 3, 4):
            errors.add("assurance_level", _("实名认证等级应为1至4。"))
        changes["assurance_level"] = assurance_level
    errors.raise_if_any()
    with transaction.atomic():
        locked = NaturalPerson.objects.select_for_update().get(pk=person.pk)
        before = {k: str(getattr(locked, k) or "") for k in changes}
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.save()
        after = {k: str(getattr(locked, k) or "") for k in changes}
        changed = {k for k in changes if before[k] != after[k]}
        if changed:
            masked = {"phone": mask_phone, "address": mask_address}  # the audit keeps no personal data
            audit.record(
                locked,
                "person.updated",
                actor=actor,
                data={
                    "before": {k: masked.get(k, str)(before[k]) for k in sorted(changed)},
                    "after": {k: masked.get(k, str)(after[k]) for k in sorted(changed)},
                },
            )
    return locked


# --- legal persons and agents --------------------------------------------------------------------


def register_legal_person(
    *,
    name: str,
    uscc: str,
    legal_representative: str = "",
    address: str = "",
    region: Region | None = None,
    actor: Any = None,
) -> LegalPerson:
    """Register an organisation by its unified social credit code (GB 32100)."""
    errors = _Errors()
    name = errors.check(_clean_name, name, label=_("单位名称"), max_length=120, person=False)
    code = errors.check(validate_uscc, uscc)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            existing = LegalPerson.objects.filter(uscc=code).first()
            if existing:
                raise Conflict(
                    _("统一社会信用代码 %(code)s 已登记为“%(name)s”。") % {"code": code, "name": existing.name},
                    field="uscc",
                )
            organisation = LegalPerson.objects.create(
                name=name,
                uscc=code,
                legal_representative=" ".join((legal_representative or "").split()),
                address=(address or "").strip(),
                region=region,
            )
            audit.record(organisation, "organisation.registered", actor=actor, data={"name": name, "uscc": code})
    except IntegrityError:
        raise Conflict(_("统一社会信用代码 %(code)s 已登记。") % {"code": code}, field="uscc") from None
    return organisation


def update_legal_person(
    organisation: LegalPerson,
    *,
    name: str | None = None,
    legal_representative: str | None = None,
    address: str | None = None,
    region: Region | None = None,
    actor: Any = None,
) -> LegalPerson:
    """Correct an organisation's name, representative, address or region (never its credit code)."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _clean_name(name, label=_("单位名称"), max_length=120, person=False)
    if legal_representative is not None:
        changes["legal_representative"] = " ".join(legal_representative.split())
    if address is not None:
        changes["address"] = address.strip()
    if region is not None:
        changes["region"] = region
    with transaction.atomic():
        locked = LegalPerson.objects.select_for_update().get(pk=organisation.pk)
        before = {k: str(getattr(locked, k) or "") for k in changes}
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.save()
        after = {k: str(getattr(locked, k) or "") for k in changes}
        changed = sorted(k for k in changes if before[k] != after[k])
        if changed:
            audit.record(
                locked,
                "organisation.updated",
                actor=actor,
                data={"before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed}},
            )
    return locked


def authorize_agent(
    *,
    person: NaturalPerson,
    organisation: LegalPerson,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    actor: Any = None,
) -> AgentAuthorization:
    """Let ``person`` act for ``organisation`` (经办人), from/until the given dates (inclusive; open when
    None). Authorising again replaces the dates."""
    today = timezone.localdate()
    if valid_from and valid_until and valid_until < valid_from:
        raise InvalidInput(_("授权截止日期不能早于授权起始日期。"), field="valid_until")
    if valid_until and valid_until < today:
        raise InvalidInput(_("授权截止日期不能早于今天。"), field="valid_until")
    with transaction.atomic():
        LegalPerson.objects.select_for_update().get(pk=organisation.pk)
        authorization, created = AgentAuthorization.objects.update_or_create(
            person=person, organisation=organisation, defaults={"valid_from": valid_from, "valid_until": valid_until}
        )
        audit.record(
            organisation,
            "agent.authorized" if created else "agent.renewed",
            actor=actor,
            data={
                "person": person.name,
                "id_number": person.masked_id,
                "valid_from": valid_from,
                "valid_until": valid_until,
            },
        )
    return authorization


def revoke_agent(*, person: NaturalPerson, organisation: LegalPerson, actor: Any = None) -> None:
    """End the person's authority to act for the organisation at once (the audit chain keeps the history)."""
    with transaction.atomic():
        LegalPerson.objects.select_for_update().get(pk=organisation.pk)
        authorization = AgentAuthorization.objects.filter(person=person, organisation=organisation).first()
        if authorization is None:
            raise NotFound(
                _("%(p)s 不是 %(o)s 的经办人。") % {"p": person.name, "o": organisation.name}, field="person"
            )
        authorization.delete()
        audit.record(
            organisation,
            "agent.revoked",
            actor=actor,
            data={
                "person": person.name,
                "id_number": person.masked_id,
                "valid_from": authorization.valid_from,
                "valid_until": authorization.valid_until,
            },
        )


# --- staff roles -------------------------------------------------------------------------------


def _check_role(role: str) -> str:
    if role not in StaffRole.Role.values:
        raise InvalidInput(_("未知的岗位角色：%(r)s。") % {"r": role}, field="role")
    return role


def grant_role(*, user: User, department: Department, role: str, actor: Any = None) -> StaffRole:
    """Give ``user`` a role in ``department`` (idempotent). Catalog managers and administrators also
    get access to the admin site."""
    role = _check_role(role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        staff_role, created = StaffRole.objects.get_or_create(user=locked, department=department, role=role)
        if role in ADMIN_ROLES and not locked.is_staff:
            locked.is_staff = True
            locked.save(update_fields=["is_staff"])
        if created:
            audit.record(
                locked,
                "role.granted",
                actor=actor,
                data={"department": department.name, "credit_code": department.credit_code, "role": role},
                region_code=department.region_id,
            )
    user.is_staff = locked.is_staff
    return staff_role


def revoke_role(*, user: User, department: Department, role: str, actor: Any = None) -> None:
    """Take a role away; without any admin role left, the user also loses access to the admin site."""
    role = _check_role(role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        deleted, _n = StaffRole.objects.filter(user=locked, department=department, role=role).delete()
        if not deleted:
            raise NotFound(
                _("%(u)s 在 %(d)s 没有该角色。") % {"u": locked, "d": department.name},
                field="role",
            )
        if (
            locked.is_staff
            and not locked.is_superuser
            and not StaffRole.objects.filter(user=locked, role__in=ADMIN_ROLES).exists()
        ):
            locked.is_staff = False
            locked.save(update_fields=["is_staff"])
        audit.record(
            locked,
            "role.revoked",
            actor=actor,
            data={"department": department.name, "credit_code": department.credit_code, "role": role},
            region_code=department.region_id,
        )
    user.is_staff = locked.is_staff


def unlock_logins(attempts: QuerySet[AccessAttempt], *, actor: Any = None) -> int:
    """Clear the failed logins selected (an administrator unlocks an account or an address at once,
    instead of letting the lock-out window pass); one audit event per account. Returns the number
    of records removed."""
    with transaction.atomic():
        accounts = sorted(set(attempts.values_list("username", flat=True).distinct()) - {None, ""})
        count, _ = attempts.delete()
        audit.record_many("login", "login.unlocked", [(account, {}, "") for account in accounts], actor=actor)
    return count


# --- password reset by SMS code ------------------------------------------------------------------


def _reset_digest(phone: str, code: str) -> str:
    return blind_index(f"{phone}:{code}", purpose="password-reset")


def request_password_reset(*, phone: str) -> None:
    """Send a code to set a new password to the citizen account of this phone number.

    The caller learns nothing about whether the number has an account: the same answer, the same
    limits (a row is recorded either way; only an account's number gets an SMS). Staff accounts are
    not reset by SMS. Raises InvalidInput for a malformed number or when the number asked too often.
    """
    phone = normalize_phone(phone)
    now = timezone.now()
    recent = PasswordResetCode.objects.filter(
        phone_digest=phone_digest(phone), created_at__gt=now - dt.timedelta(hours=1)
    )
    if recent.filter(created_at__gt=now - dt.timedelta(seconds=RESET_CODE_INTERVAL_SECONDS)).exists():
        raise InvalidInput(_("验证码已发送，请 1 分钟后再重新获取。"), field="phone")
    if recent.count() >= settings.YIWANG_RESET_CODES_PER_HOUR:
        raise InvalidInput(_("该号码获取验证码次数过多，请 1 小时后再试。"), field="phone")
    user = citizen_account(phone)
    if user is not None and (is_staff_account(user) or not user.is_active):
        user = None
    code = f"{secrets.randbelow(10**RESET_CODE_DIGITS):0{RESET_CODE_DIGITS}d}"
    minutes = settings.YIWANG_RESET_CODE_MINUTES
    with transaction.atomic():
        # only the newest code of a number works
        PasswordResetCode.objects.filter(
            phone_digest=phone_digest(phone), used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        PasswordResetCode.objects.create(
            phone=phone,
            user=user,
            code_digest=_reset_digest(phone, code),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=minutes),
        )
        if user is not None:
            body = _("您正在重置一网通办账号的密码，验证码 %(code)s，%(minutes)d 分钟内有效。如非本人操作，请忽略。")
            notify(user, _("重置密码验证码"), body % {"code": code, "minutes": minutes}, channel="sms", recipient=phone)


def reset_password(*, phone: str, code: str, password: str) -> User:
    """Set a new password with the SMS code: the newest code of the number, before it expires, once,
    with at most YIWANG_RESET_CODE_ATTEMPTS wrong tries. A new password also clears the account's
    failed logins (it unlocks). Raises InvalidInput naming the field."""
    phone = normalize_phone(phone)
    now = timezone.now()
    wrong = InvalidInput(_("验证码不正确或已失效，请核对短信或重新获取。"), field="code")
    with transaction.atomic():
        entry = (
            PasswordResetCode.objects.select_for_update()
            .filter(phone_digest=phone_digest(phone), used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if entry is None or entry.failed_attempts >= settings.YIWANG_RESET_CODE_ATTEMPTS:
            raise wrong
        matches = constant_time_compare(entry.code_digest, _reset_digest(phone, normalize(code)))
        if not matches:
            entry.failed_attempts += 1
            entry.save(update_fields=["failed_attempts"])
    if not matches:
        raise wrong  # after the transaction: the wrong try stays counted
    if entry.user_id is None:
        raise wrong
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=entry.user_id)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), field="password") from None
        used = PasswordResetCode.objects.filter(pk=entry.pk, used_at__isnull=True).update(used_at=now)
        if not used:  # a concurrent reset took it first
            raise wrong
        user.set_password(password)
        user.save(update_fields=["password"])
        AccessAttempt.objects.filter(username=user.get_username()).delete()
        audit.record(user, "account.password_reset", actor=user)
    return user
