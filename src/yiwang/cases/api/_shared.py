"""Shared by the REST endpoints of the cases app: the tags, the output serializers (a case, its
materials, tasks, documents and payments), the input base that turns DRF errors into one
``InvalidInput``, the multipart helpers of an application, pagination, and ``action_view``, which
makes one documented endpoint per transition ``POST /api/cases/{number}/<action>/``.
"""

from __future__ import annotations

import functools
from abc import ABCMeta, abstractmethod
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.catalog.models import ServiceItem
from yiwang.core.errors import Forbidden, InvalidInput, NotFound, invalid_fields
from yiwang.core.fields import FREE_TEXT_MAX_LENGTH, TYPED_CODE_MAX_LENGTH, max_length
from yiwang.core.jsonin import JSONField, parse_json

from .. import clock, selectors, services, supervision
from ..models import Case, CaseDocument, CaseMaterial, CaseTask, DeliveryMethod, PaymentOrder, Status

TAG = "办件"
STAFF_TAG = "办件办理（工作人员）"


# ---------------------------------------------------------------------------------------------
# Serializers (output)


class MaterialOut(serializers.ModelSerializer):
    name = serializers.CharField(source="requirement.name")
    requirement = serializers.IntegerField(source="requirement_id")
    download = serializers.SerializerMethodField()

    class Meta:
        model = CaseMaterial
        fields = [
            "id",
            "requirement",
            "name",
            "round",
            "satisfied_by",
            "original_name",
            "content_type",
            "size",
            "sm3",
            "source_reference",
            "source_title",
            "source_data",
            "download",
        ]

    def get_download(self, obj: CaseMaterial) -> str | None:
        if not obj.file:
            return None
        return reverse("cases-material", kwargs={"number": obj.case.number or obj.case_id, "material_id": obj.pk})


class TaskOut(serializers.ModelSerializer):
    department = serializers.CharField(source="department.name")
    assignee = serializers.SerializerMethodField()

    class Meta:
        model = CaseTask
        fields = ["id", "step", "name", "kind", "role", "department", "status", "assignee", "due_date", "comment"]

    def get_assignee(self, obj: CaseTask) -> str:
        return str(obj.assignee) if obj.assignee_id else ""


class DocumentOut(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = CaseDocument
        fields = ["id", "kind", "title", "sm3", "key_id", "created_at", "download"]

    def get_download(self, obj: CaseDocument) -> str:
        return reverse("cases-document", kwargs={"number": obj.case.number, "document_id": obj.pk})


class PaymentOut(serializers.ModelSerializer):
    class Meta:
        model = PaymentOrder
        fields = ["number", "amount", "status", "provider", "provider_reference", "created_at", "paid_at"]


class CaseSummaryOut(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code")
    item_name = serializers.CharField(source="version.name")
    department = serializers.CharField(source="department.name")
    status_display = serializers.CharField(source="get_status_display")
    applicant = serializers.CharField(source="applicant_name")

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "item_code",
            "item_name",
            "department",
            "applicant",
            "channel",
            "status",
            "status_display",
            "submitted_at",
            "accepted_at",
            "acceptance_due",
            "due_date",
            "due_provisional",
            "warning_level",
            "decision",
            "updated_at",
        ]

    def to_representation(self, case: Case) -> dict[str, Any]:
        """The declared fields, built directly: a list page serializes 20 cases, and DRF's per-field
        machinery (source lookups, one field object per column) was a third of its time. The detail
        adds its many fields the usual way."""
        if type(self) is not CaseSummaryOut:
            return super().to_representation(case)
        dt, day = _DATETIME.to_representation, _DATE.to_representation
        return {
            "id": case.pk,
            "number": case.number,
            "item_code": case.item.code,
            "item_name": case.version.name,
            "department": case.department.name,
            "applicant": case.applicant_name,
            "channel": case.channel,
            "status": case.status,
            "status_display": _status_label(get_language(), case.status),
            "submitted_at": dt(case.submitted_at) if case.submitted_at else None,
            "accepted_at": dt(case.accepted_at) if case.accepted_at else None,
            "acceptance_due": day(case.acceptance_due) if case.acceptance_due else None,
            "due_date": day(case.due_date) if case.due_date else None,
            "due_provisional": case.due_provisional,
            "warning_level": case.warning_level,
            "decision": case.decision,
            "updated_at": dt(case.updated_at) if case.updated_at else None,
        }


_DATETIME, _DATE = serializers.DateTimeField(), serializers.DateField()


@functools.lru_cache(maxsize=128)
def _status_label(language: str | None, status: str) -> str:
    """A status's label in the active ``language``: translated once, not once per row of every page
    (the lazy label's gettext was a seventh of a list page's time)."""
    return str(Status(status).label) if status in Status.values else status


# the columns a summary reads (``summary_rows``): not the form, the version's definition or the
# applicant's encrypted ID number, which a list page would otherwise load and decrypt for every row
SUMMARY_COLUMNS = [
    *(f for f in CaseSummaryOut.Meta.fields if f not in {"item_code", "item_name", "department", "applicant",
                                                        "status_display"}),
    "item__code", "version__name", "department__name", "applicant_person__name", "applicant_org__name",
    "agent__name", "item_id", "version_id", "department_id", "applicant_person_id", "applicant_org_id", "agent_id",
]  # fmt: skip


def summary_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    """A list of cases for ``CaseSummaryOut``, reading only its columns."""
    return qs.only(*SUMMARY_COLUMNS)


class CaseDetailOut(CaseSummaryOut):
    applicant_id_masked = serializers.SerializerMethodField()
    materials = serializers.SerializerMethodField()
    documents = DocumentOut(many=True, read_only=True)
    payments = PaymentOut(many=True, read_only=True)
    tasks = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    current_departments = serializers.SerializerMethodField()
    todo = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    clock = serializers.SerializerMethodField()
    corrections = serializers.SerializerMethodField()
    pauses = serializers.SerializerMethodField()
    extensions = serializers.SerializerMethodField()
    delivery = serializers.SerializerMethodField()

    class Meta(CaseSummaryOut.Meta):
        fields = [
            *CaseSummaryOut.Meta.fields,
            "applicant_id_masked",
            "form_data",
            "submission_round",
            "deemed_accepted",
            "refusal_reason",
            "decision_reason",
            "decided_at",
            "completed_at",
            "delivered_at",
            "delivery_method",
            "delivery_address",
            "materials",
            "documents",
            "payments",
            "tasks",
            "timeline",
            "current_departments",
            "todo",
            "actions",
            "clock",
            "corrections",
            "pauses",
            "extensions",
            "delivery",
        ]

    @property
    def _user(self):
        return self.context["request"].user

    def to_representation(self, case: Case) -> dict:
        """Personal data masked unless the caller is entitled (``selectors.disclosure``): the API shows
        ID numbers and accounts in full to the applicant only (staff: the page's 查看完整信息, logged)."""
        data = super().to_representation(case)
        # who sees a case and is not its staff is its applicant: no query more for them
        level = selectors.disclosure(self._user, case) if self._staff(case) else "applicant"
        data["form_data"] = selectors.masked_form_data(case, level=level)
        data["delivery_address"] = selectors.shown_address(case.delivery_address, level)
        if data.get("delivery"):
            data["delivery"]["address"] = selectors.shown_address(data["delivery"]["address"], level)
        return data

    def _staff(self, case: Case) -> bool:
        key = ("staff", case.pk)
        if key not in self.context:
            self.context[key] = selectors.is_staff_of(self._user, case)
        return self.context[key]

    def get_applicant_id_masked(self, case: Case) -> str:
        if case.applicant_org_id:
            return case.applicant_org.uscc
        return case.applicant_person.masked_id if case.applicant_person_id else ""

    def get_materials(self, case: Case) -> list[dict]:
        return MaterialOut(case.materials.select_related("requirement", "case"), many=True).data

    def get_tasks(self, case: Case) -> list[dict]:
        if not self._staff(case):
            return []
        return TaskOut(case.tasks.select_related("department", "assignee"), many=True).data

    def get_timeline(self, case: Case) -> list[dict]:
        return selectors.timeline(case, audience="staff" if self._staff(case) else "applicant")

    def get_current_departments(self, case: Case) -> list[str]:
        return selectors.current_departments(case)

    def get_todo(self, case: Case) -> list[dict]:
        return selectors.applicant_todo(case)

    def get_actions(self, case: Case) -> list[str]:
        return selectors.available_actions(self._user, case)

    def get_clock(self, case: Case) -> dict:
        return clock.time_used(case)

    def get_corrections(self, case: Case) -> list[dict]:
        return [
            {"round": c.round, "items": c.items, "requested_at": c.requested_at, "resolved_at": c.resolved_at}
            for c in case.corrections.all()
        ]

    def get_pauses(self, case: Case) -> list[dict]:
        return [
            {
                "kind": p.kind,
                "kind_display": p.get_kind_display(),
                "reason": p.reason,
                "started_at": p.started_at,
                "ended_at": p.ended_at,
                "result": p.result,
            }
            for p in case.pauses.all()
        ]

    def get_extensions(self, case: Case) -> list[dict]:
        return [
            {"id": e.pk, "days": e.days, "reason": e.reason, "status": e.status, "requested_at": e.requested_at}
            for e in case.extensions.all()
        ]

    def get_delivery(self, case: Case) -> dict | None:
        d = getattr(case, "delivery", None)
        if d is None:
            return None
        return {
            "method": d.method,
            "address": d.address,
            "carrier": d.carrier,
            "tracking_number": d.tracking_number,
            "delivered_at": d.delivered_at,
        }


class SubmittedOut(serializers.Serializer):
    """The answer to a submission: small, with the link to the detail (``Location`` too); building the
    whole detail was half of a submission's time."""

    id = serializers.IntegerField()
    number = serializers.CharField(help_text="办件编号")
    status = serializers.CharField()
    url = serializers.CharField(help_text="办件详情（GET）")


def submitted(case: Case, code: int) -> Response:
    url = reverse("cases-detail", kwargs={"number": case.number})
    body = {"id": case.pk, "number": case.number, "status": case.status, "url": url}
    return Response(body, status=code, headers={"Location": url})


# ---------------------------------------------------------------------------------------------
# Serializers (input)


class _In(serializers.Serializer):
    """Base of input serializers: their errors become one InvalidInput with a Chinese message per field."""

    @classmethod
    def parse(cls, data) -> dict[str, Any]:
        s = cls(data=data)
        if not s.is_valid():
            raise invalid_fields(s.errors)
        return s.validated_data


class ApplicationIn(_In):
    item = serializers.CharField(
        required=False, max_length=max_length(ServiceItem, "code"), help_text="事项实施编码或编号（新申请时必填）"
    )
    form_data = JSONField(
        required=False, label=gettext_lazy("申请表"), help_text="申请表（JSON 对象；multipart 时为 JSON 字符串）"
    )
    applicant_org = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TYPED_CODE_MAX_LENGTH,
        help_text="以单位名义申请时的统一社会信用代码",
    )
    delivery_method = serializers.ChoiceField(choices=DeliveryMethod.choices, required=False)
    delivery_address = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length(Case, "delivery_address")
    )


class ReasonIn(_In):
    reason = serializers.CharField(allow_blank=True, required=False, default="", max_length=FREE_TEXT_MAX_LENGTH)


# ---------------------------------------------------------------------------------------------
# Helpers


def _form_data(data) -> dict | None:
    raw = data.get("form_data")
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        raw = parse_json(raw, field="form_data", label=_("申请表"))
    if not isinstance(raw, dict):
        raise InvalidInput(_("申请表须为 JSON 对象。"), field="form_data")
    return raw


def _uploads(request) -> tuple[dict, dict]:
    """``material_<id>`` files and ``offer_<id>`` references of a multipart (or JSON) request."""
    files = {k: v for k, v in request.FILES.items() if k.startswith("material_")}
    offers = {
        k[len("offer_") :]: v
        for k, v in request.data.items()
        if isinstance(k, str) and k.startswith("offer_") and isinstance(v, str) and v
    }
    return files, offers


def _detail(request, case: Case, code: int = status.HTTP_200_OK) -> Response:
    fresh = selectors.case_for_user(request.user, case.number or case.pk)
    return Response(CaseDetailOut(fresh, context={"request": request}).data, status=code)


def created_or_replayed(case: Case) -> int:
    """201 for the case this request created, 200 for the one an earlier request with the same
    Idempotency-Key created — also when the two raced (the services tell which)."""
    return status.HTTP_200_OK if services.is_replay(case) else status.HTTP_201_CREATED


def _idempotency_key(request) -> str:
    return (request.headers.get("Idempotency-Key") or "").strip()


APPLICATION_DOC = (
    "multipart/form-data：`item`、`form_data`（JSON 字符串）、每份材料一个文件字段 `material_<材料编号>`，"
    "或以证照/共享数据免提交：`offer_<材料编号>` = 可用来源的标识（见 `GET /api/cases/offers/`）。"
    "有误时一次 400 列出全部问题（`errors`：表单字段、缺少或有误的材料）；合格的文件保存在草稿中"
    "（`draft` 为草稿编号），以同一 Idempotency-Key 重试即继续该草稿，无需再次上传。"
)
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="同一用户以同一键重复提交，返回首次创建的同一办件，不会重复立案。",
)


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


# ---------------------------------------------------------------------------------------------
# Actions: POST /api/cases/{number}/<action>


def case_to_act_on(user, number: str) -> Case:
    """The case a write is about, with the caller's rights; a supervisor who only watches it gets 403."""
    try:
        return selectors.case_for_user(user, number)
    except NotFound:
        if supervision.supervised_case(user, number) is not None:
            raise Forbidden(_("监督员只能查看办件，不能办理。")) from None
        raise


class CaseAction(APIView, metaclass=ABCMeta):
    """One transition of a case. Subclasses set ``input`` and implement ``act`` (abstract: the base
    itself cannot be instantiated, so no endpoint can be mounted without its action)."""

    permission_classes = [IsAuthenticated]
    input: type[_In] | None = None

    @abstractmethod
    def act(self, request, case: Case, data: dict):
        """Call the service for this transition."""

    def post(self, request, number: str):
        case = case_to_act_on(request.user, number)
        data = self.input.parse(request.data) if self.input else {}
        self.act(request, case, data)
        return _detail(request, case)


def action_view(name: str, summary: str, input_cls: type[_In] | None, act, *, tag: str = STAFF_TAG, doc: str = ""):
    """A CaseAction subclass for one action, with its own documented ``post``."""

    def post(self, request, number: str):
        return CaseAction.post(self, request, number)

    documented = extend_schema(tags=[tag], summary=summary, description=doc, request=input_cls, responses=CaseDetailOut)
    class_name = "".join(part.title() for part in name.replace("/", "-").split("-")) + "Action"
    return ABCMeta(
        class_name,
        (CaseAction,),
        {
            "input": input_cls,
            "act": lambda self, request, case, data: act(request, case, data),
            "post": documented(post),
        },
    )
