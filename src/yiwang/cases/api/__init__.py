"""REST endpoints of the cases app (mounted under /api/). Thin: HTTP → selector/service → HTTP.

Business errors become 4xx in ``yiwang.api.errors`` (invalid transition → 409 with a Chinese
message). A case is always looked up with the caller's rights (``selectors.case_for_user``): another
person's case number answers 404, exactly like a number that does not exist.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import FileResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from yiwang.catalog.models import ServiceItem
from yiwang.core.errors import InvalidInput, NotFound

from .. import clock, selectors, services
from ..models import (
    SPECIAL_PROCEDURE_KINDS,
    Case,
    CaseDocument,
    CaseMaterial,
    CaseTask,
    DeliveryMethod,
    IdempotencyKey,
    PaymentOrder,
)

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


# ---------------------------------------------------------------------------------------------
# Serializers (input)


class _In(serializers.Serializer):
    """Base of input serializers: their errors become one InvalidInput with a Chinese message per field."""

    @classmethod
    def parse(cls, data) -> dict[str, Any]:
        s = cls(data=data)
        if not s.is_valid():
            errors = {k: "；".join(str(m) for m in v) for k, v in s.errors.items()}
            raise InvalidInput(_("请求参数有误：%(e)s") % {"e": "；".join(errors.values())}, errors=errors)
        return s.validated_data


class ApplicationIn(_In):
    item = serializers.CharField(required=False, help_text="事项实施编码或编号（新申请时必填）")
    form_data = serializers.JSONField(required=False, help_text="申请表（JSON 对象；multipart 时为 JSON 字符串）")
    applicant_org = serializers.CharField(
        required=False, allow_blank=True, help_text="以单位名义申请时的统一社会信用代码"
    )
    delivery_method = serializers.ChoiceField(choices=DeliveryMethod.choices, required=False)
    delivery_address = serializers.CharField(required=False, allow_blank=True)


class WindowCaseIn(ApplicationIn):
    id_number = serializers.CharField(help_text="申请人（或经办人）公民身份号码")
    name = serializers.CharField(required=False, allow_blank=True, help_text="新登记申请人时必填")
    phone = serializers.CharField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    org_uscc = serializers.CharField(required=False, allow_blank=True)
    org_name = serializers.CharField(required=False, allow_blank=True)
    accept = serializers.BooleanField(required=False, default=False)


class ReasonIn(_In):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class CorrectionItemIn(serializers.Serializer):
    material = serializers.IntegerField(required=False, allow_null=True, help_text="申请材料编号")
    field = serializers.CharField(required=False, allow_blank=True, help_text="申请表字段名")
    problem = serializers.CharField(help_text="问题及补正要求")


class CorrectionIn(_In):
    items = CorrectionItemIn(many=True, allow_empty=False)


class TaskIn(_In):
    task = serializers.IntegerField(required=False, allow_null=True, help_text="任务编号；缺省为本人可办理的任务")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class DecideIn(_In):
    approve = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    task = serializers.IntegerField(required=False, allow_null=True)


class SpecialProcedureIn(_In):
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in SPECIAL_PROCEDURE_KINDS])
    reason = serializers.CharField()


class SpecialProcedureEndIn(_In):
    result = serializers.CharField(required=False, allow_blank=True, default="")


class ExtensionIn(_In):
    days = serializers.IntegerField(min_value=1, max_value=10)
    reason = serializers.CharField()


class ExtensionDecisionIn(_In):
    approve = serializers.BooleanField(default=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class DeliverIn(_In):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices)
    recipient = serializers.CharField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, default="")
    address = serializers.CharField(required=False, allow_blank=True, default="")
    carrier = serializers.CharField(required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(required=False, allow_blank=True, default="")


class PaymentIn(_In):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True)


class PayIn(_In):
    order = serializers.CharField(required=False, allow_blank=True, help_text="缺省为该办件的待缴费单")


# ---------------------------------------------------------------------------------------------
# Helpers


def _form_data(data) -> dict | None:
    raw = data.get("form_data")
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidInput(_("申请表须为 JSON 对象。"), field="form_data") from None
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


def _idempotency_key(request) -> str:
    return (request.headers.get("Idempotency-Key") or "").strip()


APPLICATION_DOC = (
    "multipart/form-data：`item`、`form_data`（JSON 字符串）、每份材料一个文件字段 `material_<材料编号>`，"
    "或以证照/共享数据免提交：`offer_<材料编号>` = 可用来源的标识（见 `GET /api/cases/offers/`）。"
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
# Applicant endpoints


class CaseListCreate(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="我的办件", responses=CaseSummaryOut(many=True))
    def get(self, request):
        qs = selectors.cases_for_applicant(
            request.user, status=request.query_params.get("status"), include_drafts=False
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CaseSummaryOut(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="网上申报（提交申请）",
        description=APPLICATION_DOC,
        parameters=[IDEMPOTENCY],
        request={"multipart/form-data": ApplicationIn, "application/json": ApplicationIn},
        responses={201: CaseDetailOut, 200: CaseDetailOut},
    )
    def post(self, request):
        data = ApplicationIn.parse(request.data)
        key = _idempotency_key(request)
        replay = bool(key) and IdempotencyKey.objects.filter(user=request.user, key=key[:200]).exists()
        files, offers = _uploads(request)
        case = services.submit_case(
            request.user,
            item=data.get("item"),
            form_data=_form_data(request.data),
            files=files,
            offers=offers,
            applicant_org=data.get("applicant_org") or None,
            delivery_method=data.get("delivery_method"),
            delivery_address=data.get("delivery_address"),
            idempotency_key=key,
        )
        return _detail(request, case, status.HTTP_200_OK if replay else status.HTTP_201_CREATED)


class DraftListCreate(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="我的草稿", responses=CaseSummaryOut(many=True))
    def get(self, request):
        return Response(CaseSummaryOut(selectors.drafts_for(request.user), many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="保存草稿",
        description=APPLICATION_DOC,
        request={"multipart/form-data": ApplicationIn, "application/json": ApplicationIn},
        responses={201: CaseDetailOut},
    )
    def post(self, request):
        data = ApplicationIn.parse(request.data)
        files, offers = _uploads(request)
        case = services.save_draft(
            request.user,
            item=data.get("item"),
            form_data=_form_data(request.data),
            files=files,
            offers=offers,
            applicant_org=data.get("applicant_org") or None,
            delivery_method=data.get("delivery_method"),
            delivery_address=data.get("delivery_address"),
        )
        return _detail(request, case, status.HTTP_201_CREATED)


def _own_draft(request, draft_id: int) -> Case:
    case = selectors.drafts_for(request.user).filter(pk=draft_id).first()
    if case is None:
        raise NotFound(_("未找到该草稿。"))
    return case


class DraftDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="草稿详情", responses=CaseDetailOut)
    def get(self, request, draft_id: int):
        return _detail(request, _own_draft(request, draft_id))

    @extend_schema(
        tags=[TAG],
        summary="修改草稿",
        description=APPLICATION_DOC,
        request={"multipart/form-data": ApplicationIn, "application/json": ApplicationIn},
        responses=CaseDetailOut,
    )
    def patch(self, request, draft_id: int):
        data = ApplicationIn.parse(request.data)
        files, offers = _uploads(request)
        case = services.save_draft(
            request.user,
            case=_own_draft(request, draft_id),
            form_data=_form_data(request.data),
            files=files,
            offers=offers,
            applicant_org=data.get("applicant_org"),
            delivery_method=data.get("delivery_method"),
            delivery_address=data.get("delivery_address"),
        )
        return _detail(request, case)

    @extend_schema(tags=[TAG], summary="删除草稿", responses={204: None})
    def delete(self, request, draft_id: int):
        services.delete_draft(request.user, _own_draft(request, draft_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DraftSubmit(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        summary="提交草稿",
        description=APPLICATION_DOC,
        parameters=[IDEMPOTENCY],
        request={"multipart/form-data": ApplicationIn, "application/json": ApplicationIn},
        responses={201: CaseDetailOut, 200: CaseDetailOut},
    )
    def post(self, request, draft_id: int):
        data = ApplicationIn.parse(request.data)
        key = _idempotency_key(request)
        earlier = key and IdempotencyKey.objects.filter(user=request.user, key=key[:200]).first()
        if earlier:
            return _detail(request, earlier.case, status.HTTP_200_OK)
        files, offers = _uploads(request)
        case = services.submit_case(
            request.user,
            case=_own_draft(request, draft_id),
            form_data=_form_data(request.data),
            files=files,
            offers=offers,
            delivery_method=data.get("delivery_method"),
            delivery_address=data.get("delivery_address"),
            idempotency_key=key,
        )
        return _detail(request, case, status.HTTP_201_CREATED)


class Offers(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        summary="可免提交的材料来源（电子证照、共享数据）",
        parameters=[
            OpenApiParameter("item", OpenApiTypes.STR, required=True, description="事项实施编码或编号"),
            OpenApiParameter("applicant_org", OpenApiTypes.STR, description="以单位名义申请时的统一社会信用代码"),
        ],
        responses=inline_serializer(
            "MaterialOffers",
            {
                "requirement": serializers.IntegerField(),
                "offers": inline_serializer(
                    "Offer",
                    {
                        "source": serializers.CharField(),
                        "reference": serializers.CharField(),
                        "title": serializers.CharField(),
                    },
                    many=True,
                ),
            },
            many=True,
        ),
    )
    def get(self, request):
        item = request.query_params.get("item", "")
        found = ServiceItem.objects.filter(code=item).first() or (
            ServiceItem.objects.filter(pk=int(item)).first() if item.isdigit() and len(item) < 12 else None
        )
        version = found.current_version if found else None
        if version is None:
            raise NotFound(_("未找到该事项。"))
        org = None
        if request.query_params.get("applicant_org"):
            org = services.acting_organisation(request.user, request.query_params["applicant_org"])
        offers = selectors.offers_for_application(request.user, version, organisation=org)
        return Response(
            [
                {
                    "requirement": req_id,
                    "offers": [{"source": o.source, "reference": o.reference, "title": o.title} for o in found_offers],
                }
                for req_id, found_offers in offers.items()
            ]
        )


class CaseDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="办件详情（含办理过程）", responses=CaseDetailOut)
    def get(self, request, number: str):
        return _detail(request, selectors.case_for_user(request.user, number))


class DocumentDownload(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="下载文书（PDF）", responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, number: str, document_id: int):
        document = selectors.document_for(request.user, number, document_id)
        return FileResponse(
            document.file.open("rb"),
            content_type="application/pdf",
            as_attachment=True,
            filename=f"{document.title}-{document.case.number}.pdf",
        )


class MaterialDownload(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG], summary="下载申请材料", responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}
    )
    def get(self, request, number: str, material_id: int):
        material = selectors.material_for(request.user, number, material_id)
        ext = material.file.name.rsplit(".", 1)[-1]
        return FileResponse(
            material.file.open("rb"),
            content_type=material.content_type or "application/octet-stream",
            as_attachment=True,
            filename=f"{material.requirement.name}.{ext}",
        )


class ProgressThrottle(AnonRateThrottle):
    """Guessing the four characters of the progress query is limited per address (API and portal share it)."""

    scope = "progress"
    rate = "30/minute"


class Progress(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ProgressThrottle]

    @extend_schema(
        tags=[TAG],
        summary="办件进度查询（免登录）",
        description="以办件编号和申请人证件号码（或统一社会信用代码）后四位查询；只返回事项、状态、当前办理部门和不含个人信息的办理过程。",
        parameters=[
            OpenApiParameter("number", OpenApiTypes.STR, required=True, description="办件编号"),
            OpenApiParameter("id_last4", OpenApiTypes.STR, required=True, description="证件号码后四位"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        return Response(
            selectors.progress_query(request.query_params.get("number", ""), request.query_params.get("id_last4", ""))
        )


# ---------------------------------------------------------------------------------------------
# Staff and applicant actions: POST /api/cases/{number}/<action>


class CaseAction(APIView):
    """One transition of a case. Subclasses set ``input`` and implement ``act``."""

    permission_classes = [IsAuthenticated]
    input: type[_In] | None = None

    def act(self, request, case: Case, data: dict):
        raise NotImplementedError

    def post(self, request, number: str):
        case = selectors.case_for_user(request.user, number)
        data = self.input.parse(request.data) if self.input else {}
        self.act(request, case, data)
        return _detail(request, case)


def action_view(name: str, summary: str, input_cls: type[_In] | None, act, *, tag: str = STAFF_TAG, doc: str = ""):
    """A CaseAction subclass for one action, with its own documented ``post``."""

    def post(self, request, number: str):
        return CaseAction.post(self, request, number)

    documented = extend_schema(tags=[tag], summary=summary, description=doc, request=input_cls, responses=CaseDetailOut)
    class_name = "".join(part.title() for part in name.replace("/", "-").split("-")) + "Action"
    return type(
        class_name,
        (CaseAction,),
        {
            "input": input_cls,
            "act": lambda self, request, case, data: act(request, case, data),
            "post": documented(post),
        },
    )


def _resubmit(request, case, data):
    files, offers = _uploads(request)
    services.resubmit_correction(request.user, case, form_data=_form_data(request.data), files=files, offers=offers)


def _pay(request, case, data):
    order = (
        data.get("order")
        or case.payments.filter(status=PaymentOrder.State.UNPAID).values_list("number", flat=True).first()
    )
    if not order:
        raise NotFound(_("该办件没有待缴费的缴费单。"))
    return services.start_payment(request.user, order)


class Pay(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        summary="缴费：取得支付渠道的收银台地址",
        request=PayIn,
        responses=inline_serializer("Checkout", {"checkout_url": serializers.CharField()}),
    )
    def post(self, request, number: str):
        case = selectors.case_for_user(request.user, number)
        return Response({"checkout_url": _pay(request, case, PayIn.parse(request.data))})


class DevPay(APIView):
    """The development payment provider's cashier: the payer confirms, the provider calls back."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="开发环境模拟支付（DevPaymentProvider）", request=None, responses=PaymentOut)
    def post(self, request, order_number: str):
        return Response(PaymentOut(services.simulate_payment(request.user, order_number)).data)


class PaymentCallback(APIView):
    """Server-to-server notice from the payment provider, authenticated by its signature only."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        tags=[TAG],
        summary="支付渠道回调（验签）",
        request=OpenApiTypes.OBJECT,
        responses=inline_serializer(
            "CallbackResult", {"result": serializers.CharField(), "order": serializers.CharField()}
        ),
    )
    def post(self, request, provider: str):
        order = services.handle_payment_callback(provider, request.body, request.headers)
        return Response({"result": "ok", "order": order.number, "status": order.status})


class ExtensionDecision(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[STAFF_TAG], summary="审批延期申请", request=ExtensionDecisionIn, responses=CaseDetailOut)
    def post(self, request, number: str, extension_id: int):
        case = selectors.case_for_user(request.user, number)
        extension = case.extensions.filter(pk=extension_id).first()
        if extension is None:
            raise NotFound(_("未找到该延期申请。"))
        data = ExtensionDecisionIn.parse(request.data)
        services.approve_extension(request.user, extension, approve=data["approve"], comment=data["comment"])
        return _detail(request, case)


class WindowCaseCreate(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[STAFF_TAG],
        summary="综窗收件（任一部门的任一事项）",
        description="窗口受理员按身份证号查找或登记申请人，代为提交申请；`accept=true` 时当场受理并出具受理回执。"
        + APPLICATION_DOC,
        parameters=[IDEMPOTENCY],
        request={"multipart/form-data": WindowCaseIn, "application/json": WindowCaseIn},
        responses={201: CaseDetailOut},
    )
    def post(self, request):
        data = WindowCaseIn.parse(request.data)
        files, offers = _uploads(request)
        case = services.start_window_case(
            request.user,
            item=data.get("item", ""),
            id_number=data["id_number"],
            name=data.get("name", ""),
            phone=data.get("phone", ""),
            address=data.get("address", ""),
            org_uscc=data.get("org_uscc", ""),
            org_name=data.get("org_name", ""),
            form_data=_form_data(request.data),
            files=files,
            offers=offers,
            delivery_method=data.get("delivery_method"),
            delivery_address=data.get("delivery_address"),
            accept=data.get("accept", False),
            idempotency_key=_idempotency_key(request),
        )
        return _detail(request, case, status.HTTP_201_CREATED)


class WorkQueue(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[STAFF_TAG],
        summary="待办任务（按部门、角色）",
        parameters=[
            OpenApiParameter("department", OpenApiTypes.INT),
            OpenApiParameter("role", OpenApiTypes.STR),
        ],
        responses=inline_serializer("QueueEntry", {"task": TaskOut(), "case": CaseSummaryOut()}, many=True),
    )
    def get(self, request):
        department = request.query_params.get("department")
        tasks = selectors.work_queue(
            request.user,
            department=int(department) if department and department.isdigit() else None,
            role=request.query_params.get("role") or None,
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        return paginator.get_paginated_response(
            [{"task": TaskOut(t).data, "case": CaseSummaryOut(t.case).data} for t in page]
        )


class AcceptanceQueue(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[STAFF_TAG], summary="待受理办件", responses=CaseSummaryOut(many=True))
    def get(self, request):
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.acceptance_queue(request.user), request, view=self)
        return paginator.get_paginated_response(CaseSummaryOut(page, many=True).data)


def _task(data) -> int | None:
    return data.get("task")


ACTIONS = [
    ("accept", "受理", None, lambda r, c, d: services.accept_case(r.user, c)),
    ("refuse", "不予受理", ReasonIn, lambda r, c, d: services.refuse_case(r.user, c, reason=d["reason"])),
    (
        "request-correction",
        "一次性告知补正",
        CorrectionIn,
        lambda r, c, d: services.request_correction(r.user, c, items=[dict(i) for i in d["items"]]),
    ),
    ("claim", "签收任务", TaskIn, lambda r, c, d: services.claim_task(r.user, c, _task(d))),
    ("pass", "办理通过", TaskIn, lambda r, c, d: services.pass_task(r.user, c, _task(d), comment=d["comment"])),
    ("return", "退回上一环节", TaskIn, lambda r, c, d: services.return_task(r.user, c, _task(d), comment=d["comment"])),
    (
        "decide",
        "作出决定（准予/不予）",
        DecideIn,
        lambda r, c, d: services.decide(r.user, c, approve=d["approve"], reason=d["reason"], task=_task(d)),
    ),
    (
        "special-procedure",
        "启动特别程序（暂停计时）",
        SpecialProcedureIn,
        lambda r, c, d: services.start_special_procedure(r.user, c, kind=d["kind"], reason=d["reason"]),
    ),
    (
        "special-procedure/end",
        "结束特别程序（恢复计时）",
        SpecialProcedureEndIn,
        lambda r, c, d: services.end_special_procedure(r.user, c, result=d["result"]),
    ),
    (
        "extension",
        "申请延期",
        ExtensionIn,
        lambda r, c, d: services.request_extension(r.user, c, days=d["days"], reason=d["reason"]),
    ),
    (
        "payment",
        "开具缴费单",
        PaymentIn,
        lambda r, c, d: services.create_payment_order(r.user, c, amount=d.get("amount")),
    ),
    ("complete", "办结", None, lambda r, c, d: services.complete_case(r.user, c)),
    ("deliver", "送达（出件）", DeliverIn, lambda r, c, d: services.deliver(r.user, c, **d)),
]
APPLICANT_ACTIONS = [
    ("resubmit", "提交补正材料", None, _resubmit, APPLICATION_DOC),
    ("withdraw", "撤回申请", ReasonIn, lambda r, c, d: services.withdraw(r.user, c, reason=d["reason"]), ""),
]


urlpatterns = [
    path("cases/", CaseListCreate.as_view(), name="cases-list"),
    path("cases/drafts/", DraftListCreate.as_view(), name="cases-drafts"),
    path("cases/drafts/<int:draft_id>/", DraftDetail.as_view(), name="cases-draft"),
    path("cases/drafts/<int:draft_id>/submit/", DraftSubmit.as_view(), name="cases-draft-submit"),
    path("cases/offers/", Offers.as_view(), name="cases-offers"),
    path("cases/queue/", WorkQueue.as_view(), name="cases-queue"),
    path("cases/acceptance-queue/", AcceptanceQueue.as_view(), name="cases-acceptance-queue"),
    path("window/cases/", WindowCaseCreate.as_view(), name="cases-window"),
    path("progress/", Progress.as_view(), name="cases-progress"),
    path("payments/callback/<str:provider>/", PaymentCallback.as_view(), name="cases-payment-callback"),
    path("payments/dev/<str:order_number>/pay/", DevPay.as_view(), name="cases-dev-pay"),
    path("cases/<str:number>/", CaseDetail.as_view(), name="cases-detail"),
    path("cases/<str:number>/documents/<int:document_id>/", DocumentDownload.as_view(), name="cases-document"),
    path("cases/<str:number>/materials/<int:material_id>/", MaterialDownload.as_view(), name="cases-material"),
    path("cases/<str:number>/pay/", Pay.as_view(), name="cases-pay"),
    path(
        "cases/<str:number>/extensions/<int:extension_id>/decide/",
        ExtensionDecision.as_view(),
        name="cases-extension-decide",
    ),
]
for _name, _summary, _input, _act in ACTIONS:
    urlpatterns.append(
        path(
            f"cases/<str:number>/{_name}/",
            action_view(_name, _summary, _input, _act).as_view(),
            name=f"cases-{_name.replace('/', '-')}",
        )
    )
for _name, _summary, _input, _act, _doc in APPLICANT_ACTIONS:
    urlpatterns.append(
        path(
            f"cases/<str:number>/{_name}/",
            action_view(_name, _summary, _input, _act, tag=TAG, doc=_doc).as_view(),
            name=f"cases-{_name}",
        )
    )
