"""Demo cases: a living 河源市 with a case in every state (run by ``yiwang load-demo`` after the catalog).

The loader uses what the catalog demo created — published items, their departments' staff, citizen
accounts, an organisation with its agent — and drives every case through the real services, so the
audit chains, documents, notifications and fee orders are what production would have.

Back-dating: each step runs inside ``back_dated(moment)``, which sets ``django.utils.timezone.now``
for the duration of the step. Everything that reads the clock then agrees — the services, the audit
events' times, generated documents, notification times, working-day due dates — so an overdue case
has a genuine history that started weeks ago. Only this loader does that; the services themselves
never take a "now" argument. A step cannot go back before its item version came into force (the
case must be filed under the version in force then): scenarios that would need that are left out
with a note, so the catalog demo should publish its versions effective from a date in the past.

Idempotent: each scenario's first submission carries the Idempotency-Key ``demo:<scenario>``; a
scenario whose key exists is not run again.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yiwang.catalog import selectors as catalog_selectors
from yiwang.catalog.models import Handling, ItemVersion, ServiceItem
from yiwang.core.calendar import add_working_days, working_days_between
from yiwang.core.errors import YiwangError
from yiwang.core.ids import make_uscc
from yiwang.identity.models import AgentAuthorization, NaturalPerson, StaffRole, User

from . import services
from .models import Case, IdempotencyKey, Status

KEY = "demo:{}"


@contextmanager
def back_dated(moment: dt.datetime) -> Iterator[None]:
    """Let ``timezone.now()`` answer ``moment`` (an aware datetime) inside the block."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def anchor_day() -> dt.date:
    """The last working day before today: the demo's "latest" day, so that every step lies in the past."""
    return add_working_days(timezone.localdate(), -1).date


def working_day(back: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """``back`` working days before the anchor day, at hour:minute Asia/Shanghai."""
    day = add_working_days(anchor_day(), -back).date if back else anchor_day()
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def later(moment: dt.datetime, days: int = 1, hour: int | None = None) -> dt.datetime:
    """``days`` working days after ``moment`` (at ``hour``), but never past the anchor day: then a little
    later the same day, so that steps stay in order and in the past."""
    local = timezone.localtime(moment)
    day = add_working_days(local.date(), days).date
    if days == 0 or day > anchor_day():
        return moment + dt.timedelta(minutes=25)
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(hour if hour is not None else local.hour, local.minute))
    )


# ---------------------------------------------------------------------------------------------
# Materials and forms the demo applicants supply


def _document(title: str, kind: str) -> bytes:
    """A small real document of the given format, titled in Chinese."""
    if kind == "pdf":
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen import canvas

        from yiwang.core.pdf import cjk_font

        buffer = io.BytesIO()
        page = canvas.Canvas(buffer, pagesize=A4)
        page.setFont(cjk_font(), 16)
        page.drawString(72, 760, f"演示材料：{title}")
        page.setFont(cjk_font(), 10)
        page.drawString(72, 735, "本文件为一网演示数据自动生成。")
        page.showPage()
        page.save()
        return buffer.getvalue()
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (240, 244, 250)).save(buffer, format="PNG" if kind == "png" else "JPEG")
    return buffer.getvalue()


def _materials(version: ItemVersion) -> dict[int, SimpleUploadedFile]:
    files = {}
    for requirement in version.materials.all():
        if not requirement.required or requirement.source == "department":
            continue
        kind = services.allowed_formats(requirement)[0]
        kind = "pdf" if kind == "ofd" else kind
        files[requirement.pk] = SimpleUploadedFile(f"{requirement.name}.{kind}", _document(requirement.name, kind))
    return files


# Values tried, in order, for a text field with a pattern (bank account, plate, certificate numbers …).
PATTERN_SAMPLES = ["6217002020001234567", "粤P12345", "123456", "20234401234567", "A1234567", "441600"]


def _form(version: ItemVersion, person: NaturalPerson, org=None) -> dict:
    data: dict = {}
    for spec in version.form_schema or []:
        name, kind, label = spec.get("name", ""), spec.get("type", "text"), spec.get("label", "")
        if kind == "id_number":
            data[name] = person.id_number
        elif kind == "uscc":
            # a person applies under their 个体工商户's code (category 92)
            data[name] = org.uscc if org else make_uscc("92441600", f"{person.pk:08d}")
        elif kind == "phone":
            data[name] = person.phone or "13800138000"
        elif kind == "number":
            data[name] = spec.get("min") or 1
        elif kind == "date":
            data[name] = timezone.localdate().isoformat()
        elif kind == "select":
            option = (spec.get("options") or [""])[0]
            data[name] = option["value"] if isinstance(option, dict) else option
        elif kind == "checkbox":
            data[name] = True
        elif "name" in name or "姓名" in label:
            data[name] = (org.name if org and ("单位" in label or "企业" in label) else person.name)[
                : spec.get("max_length") or 60
            ]
        elif "address" in name or "地址" in label or "住所" in label:
            data[name] = (person.address or "广东省河源市源城区文明路1号")[: spec.get("max_length") or 200]
        elif spec.get("pattern"):
            data[name] = next((v for v in PATTERN_SAMPLES if re.fullmatch(spec["pattern"], v)), "")
        else:
            data[name] = f"演示{label}"[: spec.get("max_length") or 200]
    return data


# ---------------------------------------------------------------------------------------------
# Who and what the demo uses


@dataclass
class Cast:
    citizens: list[User]
    agent: User | None
    organisation: object | None
    clerk: User | None

    @classmethod
    def discover(cls) -> Cast:
        staff_ids = StaffRole.objects.values("user_id")
        people = (
            NaturalPerson.objects.filter(user__isnull=False, user__is_active=True)
            .exclude(user__in=staff_ids)
            .exclude(user__is_staff=True)
            .select_related("user")
            .order_by("id")
        )
        authorisation = (
            AgentAuthorization.objects.filter(person__user__isnull=False).select_related("person__user").first()
        )
        clerk_role = StaffRole.objects.filter(role=StaffRole.Role.WINDOW_CLERK).select_related("user").first()
        agent_user = authorisation.person.user if authorisation else None
        return cls(
            citizens=[p.user for p in people if p.user != agent_user] or [p.user for p in people],
            agent=agent_user,
            organisation=authorisation.organisation if authorisation else None,
            clerk=clerk_role.user if clerk_role else None,
        )

    def citizen(self, index: int) -> User:
        return self.citizens[index % len(self.citizens)]


def staff_for(department_id: int, role: str) -> User | None:
    found = StaffRole.objects.filter(department_id=department_id, role=role).select_related("user").first()
    return found.user if found else None


def _fully_staffed(version: ItemVersion) -> bool:
    department = version.item.department_id
    pairs = {(s.department_id or department, s.role) for s in version.stages.all()}
    pairs.add((department, StaffRole.Role.APPROVER))
    return all(staff_for(d, r) for d, r in pairs) and bool(staff_for(department, StaffRole.Role.HANDLER))


def applicant_for(version: ItemVersion, cast: Cast, user: User) -> tuple[User, object | None]:
    """Who applies for ``version``: the given citizen, or — for items only organisations may apply for —
    the agent acting for the demo organisation."""
    if version.service_object == "organisation":
        return cast.agent, cast.organisation
    return user, None


def _fillable(version: ItemVersion, cast: Cast) -> bool:
    user, org = applicant_for(version, cast, cast.citizens[0])
    if user is None:
        return False
    try:
        services.validate_form(version, _form(version, NaturalPerson.objects.get(user=user), org))
    except YiwangError:
        return False
    return True


@dataclass
class Items:
    promised: list[ItemVersion]
    fee: ItemVersion | None
    immediate: ItemVersion | None
    parallel: ItemVersion | None
    licensed: list[ItemVersion]  # items whose result is a licence (issued on approval, 同步签发)

    @classmethod
    def discover(cls, cast: Cast) -> Items:
        today = timezone.localdate()
        current = []
        for item in ServiceItem.objects.order_by("code"):
            version = item.current_version
            if version and version.effective_from and version.effective_from <= today:
                current.append(version)
        usable = [v for v in current if _fully_staffed(v) and _fillable(v, cast)]
        online = [v for v in usable if catalog_selectors.can_apply_online(v)]
        promised = [
            v for v in online if v.handling == Handling.PROMISED and v.fee == 0 and v.service_object != "organisation"
        ]
        promised.sort(key=lambda v: (-v.promised_days, v.pk))
        return cls(
            promised=promised,
            fee=next((v for v in online if v.fee > 0 and v.handling == Handling.PROMISED), None),
            immediate=next((v for v in usable if v.handling == Handling.IMMEDIATE), None),
            parallel=next((v for v in online if v.stages.exclude(parallel_group="").exists()), None),
            licensed=[v for v in online if v.result_type == "licence" and v.handling == Handling.PROMISED],
        )


# ---------------------------------------------------------------------------------------------
# Steps


class TooEarly(Exception):
    """The scenario would start before its item version came into force."""


@dataclass
class Run:
    """One scenario: its Idempotency-Key, and ``t``, the moment of its latest step."""

    cast: Cast
    key: str
    notes: list[str]
    t: dt.datetime | None = None

    def at(self, moment: dt.datetime) -> dt.datetime:
        self.t = moment
        return moment

    def next(self, days: int = 1, hour: int | None = None) -> dt.datetime:
        return self.at(later(self.t, days, hour))

    def submit(self, version: ItemVersion, moment: dt.datetime, user: User, *, org=None, **kw) -> Case:
        if version.effective_from and timezone.localdate(moment) < version.effective_from:
            raise TooEarly
        if org is None:
            user, org = applicant_for(version, self.cast, user)
        person = NaturalPerson.objects.get(user=user)
        with back_dated(self.at(moment)):
            return services.submit_case(
                user,
                item=version.item,
                form_data=_form(version, person, org),
                files=_materials(version),
                applicant_org=org,
                idempotency_key=self.key,
                **kw,
            )

    def accept(self, case: Case, days: int = 1) -> Case:
        with back_dated(self.next(days, 10)):
            return services.accept_case(staff_for(case.department_id, StaffRole.Role.HANDLER), case)

    def step(self, case: Case, *, decide: bool | None = None, reason: str = "") -> Case:
        """Claim and finish every open task of the current step (passing, or deciding a decide task)."""
        for task in case.tasks.filter(status="open").order_by("id"):
            user = staff_for(task.department_id, task.role)
            with back_dated(self.at(self.t + dt.timedelta(minutes=15))):
                services.claim_task(user, case, task)
            with back_dated(self.at(self.t + dt.timedelta(minutes=40))):
                if task.kind == "decide":
                    case = services.decide(user, case, approve=bool(decide), reason=reason)
                else:
                    services.pass_task(user, case, task, comment="审查通过，材料齐全、符合法定形式。")
        return Case.objects.get(pk=case.pk)

    def through(self, case: Case, *, approve: bool, reason: str = "") -> Case:
        """Every remaining step, one working day apart, ending with the decision."""
        for _ in range(20):
            if case.status in (Status.APPROVED, Status.DENIED):
                return case
            self.next(1, 9)
            case = self.step(case, decide=approve, reason=reason)
        raise RuntimeError(f"demo case {case.number} did not reach a decision")

    def act(self, fn, *args, after: int = 1, hour: int | None = None, **kwargs):
        """Run one service call ``after`` working days after the previous step (0: a little later)."""
        with back_dated(self.next(after, hour)):
            return fn(*args, **kwargs)


def handler_of(case: Case) -> User:
    return staff_for(case.department_id, StaffRole.Role.HANDLER)


def yellow_start(promised: int) -> dt.date:
    """An acceptance day from which, today, ≥ 80 % of ``promised`` working days are used but none is late."""
    today = timezone.localdate()
    for back in range(1, promised + 1):
        start = add_working_days(today, -back).date
        if working_days_between(start, today)[0] >= math.ceil(promised * 0.8):
            return start
    return add_working_days(today, -promised).date


# ---------------------------------------------------------------------------------------------
# Scenarios


def _draft(run: Run, items: Items) -> None:
    version = items.promised[0]
    user = run.cast.citizen(0)
    if Case.objects.filter(status=Status.DRAFT, submitted_by=user, version=version).exists():
        return
    person = NaturalPerson.objects.get(user=user)
    services.save_draft(user, item=version.item, form_data=_form(version, person))


def _submitted(run, items):
    return run.submit(items.promised[0], working_day(0, 9, 12), run.cast.citizen(1))


def _deemed(run, items):
    version = items.promised[-1]
    return run.submit(version, working_day(version.acceptance_days + 2, 16, 5), run.cast.citizen(0))


def _correction(run, items):
    version = items.promised[0]
    case = run.submit(version, working_day(3, 10, 30), run.cast.citizen(2))
    material = version.materials.filter(required=True).first()
    run.act(
        services.request_correction,
        handler_of(case),
        case,
        hour=15,
        items=[
            {"material": material.pk if material else None, "problem": "材料未加盖公章，请提交盖章后的扫描件。"},
            {"problem": "申请表联系电话无法接通，请核对后重新填写。"},
        ],
    )
    return case


def _refused(run, items):
    case = run.submit(items.promised[-1], working_day(5, 11), run.cast.citizen(3))
    reason = "申请事项不属于本机关职权范围，请向县级主管部门提出申请。"
    return run.act(services.refuse_case, handler_of(case), case, hour=14, reason=reason)


def _accepted(run, items):
    case = run.submit(items.promised[0], working_day(1, 9, 40), run.cast.citizen(1))
    return run.accept(case)


def _in_review(run, items):
    case = run.accept(run.submit(items.promised[-1], working_day(4, 9), run.cast.citizen(2)))
    run.next(1, 11)
    return run.step(case)


def _yellow(run, items):
    version = items.promised[0]
    start = yellow_start(version.promised_days)
    submitted = timezone.make_aware(dt.datetime.combine(add_working_days(start, -1).date, dt.time(9)))
    case = run.accept(run.submit(version, submitted, run.cast.citizen(0)))
    run.next(1, 10)
    return run.step(case)


def _red(run, items):
    version = items.promised[0]
    case = run.accept(run.submit(version, working_day(version.promised_days + 4, 9, 30), run.cast.citizen(3)))
    run.next(2, 15)
    return run.step(case)


def _suspended(run, items):
    case = run.accept(run.submit(items.promised[0], working_day(7, 9), run.cast.citizen(1)))
    task = case.tasks.filter(status="open").first()
    user = staff_for(task.department_id, task.role)
    run.act(services.claim_task, user, case, task, hour=9)
    reason = "经营场所涉及消防安全，需组织专家评审。"
    run.act(services.start_special_procedure, user, case, after=3, hour=16, kind="expert_review", reason=reason)
    return case


def _extended(run, items):
    version = items.promised[0]
    case = run.accept(run.submit(version, working_day(version.promised_days, 9), run.cast.citizen(2)))
    task = case.tasks.filter(status="open").first()
    user = staff_for(task.department_id, task.role)
    run.act(services.claim_task, user, case, task, hour=9)
    extension = run.act(services.request_extension, user, case, days=5, hour=10, reason="需向上级部门征求意见。")
    run.act(services.approve_extension, staff_for(case.department_id, StaffRole.Role.APPROVER), extension, after=0)
    return case


def _approved_unpaid(run, items):
    version = items.fee or items.promised[0]
    case = run.accept(run.submit(version, working_day(6, 9), run.cast.citizen(0)))
    case = run.through(case, approve=True, reason="符合法定条件、标准。")
    if not case.payments.exists():
        run.act(services.create_payment_order, handler_of(case), case, after=0, amount="60.00")
    return case


def _paid_completed(run, items):
    version = items.fee or items.promised[-1]
    user = run.cast.citizen(1)
    case = run.accept(run.submit(version, working_day(9, 9), user))
    case = run.through(case, approve=True, reason="符合法定条件、标准。")
    order = case.payments.filter(status="unpaid").first() or run.act(
        services.create_payment_order, handler_of(case), case, after=0, amount="20.00"
    )
    run.act(services.simulate_payment, user, order, hour=20)
    return run.act(services.complete_case, handler_of(case), case, hour=10)


def _denied(run, items):
    case = run.accept(run.submit(items.promised[-1], working_day(12, 10), run.cast.citizen(2)))
    reason = "经现场核查，经营场所面积与申请材料不符，不符合法定条件。"
    return run.through(case, approve=False, reason=reason)


def _delivered_post(run, items):
    address = "广东省河源市源城区文明路1号"
    # a licence item (its licence is issued on approval); an organisation may hold whatever it produces
    version = items.licensed[0] if items.licensed else items.promised[0]
    as_org = version in items.licensed and version.service_object != "person" and run.cast.organisation
    user, org = (run.cast.agent, run.cast.organisation) if as_org else (run.cast.citizen(3), None)
    case = run.submit(version, working_day(15, 10), user, org=org, delivery_method="post", delivery_address=address)
    case = run.through(run.accept(case), approve=True, reason="符合法定条件、标准。")
    run.act(services.complete_case, handler_of(case), case, hour=10)
    run.act(
        services.deliver, handler_of(case), case, hour=14, method="post", address=address, carrier="中国邮政EMS",
        tracking_number="1180392451203",
    )  # fmt: skip
    return case


def _organisation(run, items):
    if run.cast.agent is None or run.cast.organisation is None:
        run.notes.append("没有经办人授权的单位，跳过单位申报场景")
        return None
    version = next((v for v in items.licensed + items.promised if v.service_object != "person"), None)
    if version is None:
        run.notes.append("没有可由单位申报的事项，跳过单位申报场景")
        return None
    case = run.submit(version, working_day(10, 10), run.cast.agent, org=run.cast.organisation)
    case = run.through(run.accept(case), approve=True, reason="符合法定条件、标准。")
    run.act(services.complete_case, handler_of(case), case, hour=10)
    run.act(services.deliver, handler_of(case), case, after=0, method="electronic")
    return case


def _withdrawn(run, items):
    user = run.cast.citizen(0)
    case = run.accept(run.submit(items.promised[-1], working_day(6, 10), user))
    return run.act(services.withdraw, user, case, hour=16, reason="经营计划调整，暂不申请。")


def _window_immediate(run, items):
    version = items.immediate
    if version is None or run.cast.clerk is None:
        run.notes.append("没有即办件或综窗受理员，跳过窗口即办场景")
        return None
    moment = working_day(3, 9, 20)
    if version.effective_from and version.effective_from > timezone.localdate(moment):
        raise TooEarly
    user, org = applicant_for(version, run.cast, run.cast.citizen(1))
    person = NaturalPerson.objects.get(user=user)
    clerk = run.cast.clerk
    with back_dated(run.at(moment)):
        case = services.start_window_case(
            clerk, item=version.item, id_number=person.id_number, org_uscc=org.uscc if org else "",
            form_data=_form(version, person, org), files=_materials(version), accept=True, idempotency_key=run.key,
        )  # fmt: skip
    for service, kwargs in (
        (services.decide, {"approve": True, "reason": "材料齐全，当场办结。"}),
        (services.complete_case, {}),
        (services.deliver, {"method": "window"}),
    ):
        with back_dated(run.at(run.t + dt.timedelta(minutes=6))):
            service(clerk, case, **kwargs)
    return case


def _parallel(run, items):
    version = items.parallel
    if version is None:
        run.notes.append("没有并联审批事项，跳过并联场景")
        return None
    case = run.accept(run.submit(version, working_day(5, 9), run.cast.citizen(2)))
    for _ in range(5):  # up to the parallel step, then finish one of its branches only
        step = case.tasks.filter(status="open")
        if step.count() > 1:
            task = step.first()
            user = staff_for(task.department_id, task.role)
            run.act(services.claim_task, user, case, task, hour=10)
            run.act(services.pass_task, user, case, task, after=0, comment="同意，无其他意见。")
            return case
        run.next(1, 10)
        case = run.step(case)
    return case


SCENARIOS: list[tuple[str, str, Callable]] = [
    ("submitted", "待受理", _submitted),
    ("deemed", "逾期未受理（视为受理）", _deemed),
    ("correction", "待补正（一次性告知）", _correction),
    ("refused", "不予受理", _refused),
    ("accepted", "已受理待签收", _accepted),
    ("in-review", "审查中", _in_review),
    ("yellow", "临近期限（黄色预警）", _yellow),
    ("red", "已超期（红色预警）", _red),
    ("suspended", "特别程序中（暂停计时）", _suspended),
    ("extended", "已批准延期", _extended),
    ("approved-unpaid", "已批准待缴费", _approved_unpaid),
    ("paid-completed", "已缴费并办结", _paid_completed),
    ("denied", "不予批准", _denied),
    ("delivered-post", "已邮寄送达", _delivered_post),
    ("organisation", "单位申报、电子送达", _organisation),
    ("withdrawn", "申请人撤回", _withdrawn),
    ("window-immediate", "综窗即办件当场办结", _window_immediate),
    ("parallel", "并联审批进行中", _parallel),
]


def load(stdout) -> None:
    cast = Cast.discover()
    if not cast.citizens:
        stdout.write("办件演示数据：没有可用的群众账号，跳过。")
        return
    items = Items.discover(cast)
    if not items.promised:
        stdout.write("办件演示数据：没有可网上申报且岗位齐全的已发布事项，跳过。")
        return
    notes: list[str] = []
    made = 0
    _draft(Run(cast, "", notes), items)
    for name, label, scenario in SCENARIOS:
        key = KEY.format(name)
        if IdempotencyKey.objects.filter(key=key).exists():
            continue
        try:
            if scenario(Run(cast, key, notes), items) is not None:
                made += 1
        except TooEarly:
            notes.append(f"“{label}”需要早于事项生效日期的办件，跳过")
    # bring every clock up to today: deemed acceptance, due dates, warnings
    services.deem_overdue_acceptances()
    services.refresh_warnings()
    counts = {
        label: Case.objects.filter(status=value).count()
        for value, label in Status.choices
        if Case.objects.filter(status=value).exists()
    }
    red = Case.objects.filter(warning_level="red").count()
    yellow = Case.objects.filter(warning_level="yellow").count()
    stdout.write(
        f"办件：新建 {made} 个演示场景；"
        + "，".join(f"{k} {v}" for k, v in counts.items())
        + f"；红色预警 {red}，黄色预警 {yellow}。"
    )
    for note in notes:
        stdout.write(f"  办件演示：{note}")
