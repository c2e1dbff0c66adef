"""REST endpoints for department staff: the transitions of the state machine (accept, refuse,
correction, claim, pass, return, decide, special procedures, extensions, fees, complete, deliver),
the extension decision, and the work and acceptance queues.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from yiwang.core.errors import Forbidden, InvalidInput, NotFound
from yiwang.core.fields import FREE_TEXT_MAX_LENGTH, max_length

from .. import selectors, services, supervision
from ..models import SPECIAL_PROCEDURE_KINDS, CaseMaterial, Delivery, DeliveryMethod
from ._shared import (
    STAFF_TAG,
    CaseDetailOut,
    CaseSummaryOut,
    Pagination,
    ReasonIn,
    TaskOut,
    _detail,
    _In,
    case_to_act_on,
    summary_rows,
)


def _delivery(name: str) -> int:
    return max_length(Delivery, name)


class CorrectionItemIn(serializers.Serializer):
    material = serializers.IntegerField(required=False, allow_null=True, help_text="申请材料编号")
    field = serializers.CharField(required=False, allow_blank=True, max_length=40, help_text="申请表字段名")
    problem = serializers.CharField(max_length=max_length(CaseMaterial, "label"), help_text="问题及补正要求")


class CorrectionIn(_In):
    items = CorrectionItemIn(many=True, allow_empty=False)


class TaskIn(_In):
    task = serializers.IntegerField(required=False, allow_null=True, help_text="任务编号；缺省为本人可办理的任务")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=FREE_TEXT_MAX_LENGTH)


class DecideIn(_In):
    approve = serializers.BooleanField(
        help_text="true 准予，false 不予（必填）",
        error_messages={"required": gettext_lazy("请选择审批决定（approve）：准予或不予。")},
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=FREE_TEXT_MAX_LENGTH)
    task = serializers.IntegerField(required=False, allow_null=True)


class SpecialProcedureIn(_In):
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in SPECIAL_PROCEDURE_KINDS])
    reason = serializers.CharField(max_length=FREE_TEXT_MAX_LENGTH)


class SpecialProcedureEndIn(_In):
    result = serializers.CharField(required=False, allow_blank=True, default="", max_length=FREE_TEXT_MAX_LENGTH)


class ExtensionIn(_In):
    days = serializers.IntegerField(min_value=1, max_value=10)
    reason = serializers.CharField(max_length=FREE_TEXT_MAX_LENGTH)


class ExtensionDecisionIn(_In):
    # no default: an approver must say yes or no, a missing field is never an approval
    approve = serializers.BooleanField(
        help_text="true 批准，false 不批准（必填）",
        error_messages={"required": gettext_lazy("请选择是否批准延期（approve）。")},
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=FREE_TEXT_MAX_LENGTH)


class DeliverIn(_In):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices)
    recipient = serializers.CharField(required=False, allow_blank=True, default="", max_length=_delivery("recipient"))
    phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=_delivery("phone"))
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=_delivery("address"))
    carrier = serializers.CharField(required=False, allow_blank=True, default="", max_length=_delivery("carrier"))
    tracking_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=_delivery("tracking_number")
    )


class PaymentIn(_In):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True)


class ExtensionDecision(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[STAFF_TAG], summary="审批延期申请", request=ExtensionDecisionIn, responses=CaseDetailOut)
    def post(self, request, number: str, extension_id: int):
        case = case_to_act_on(request.user, number)
        extension = case.extensions.filter(pk=extension_id).first()
        if extension is None:
            raise NotFound(_("未找到该延期申请。"))
        data = ExtensionDecisionIn.parse(request.data)
        services.approve_extension(request.user, extension, approve=data["approve"], comment=data["comment"])
        return _detail(request, case)


class WorkQueue(APIView):
    permission_classes = [IsAuthenticated]
    # the schema documents its GET as the page object (count, next, previous, results)
    pagination_class = Pagination

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
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(tasks, request, view=self)
        return paginator.get_paginated_response(
            [{"task": TaskOut(t).data, "case": CaseSummaryOut(t.case).data} for t in page]
        )


class AcceptanceQueue(APIView):
    permission_classes = [IsAuthenticated]
    # the schema documents its GET as the page object (count, next, previous, results)
    pagination_class = Pagination

    @extend_schema(tags=[STAFF_TAG], summary="待受理办件", responses=CaseSummaryOut(many=True))
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(summary_rows(selectors.acceptance_queue(request.user)), request, view=self)
        return paginator.get_paginated_response(CaseSummaryOut(page, many=True).data)


class SupervisedCaseOut(serializers.Serializer):
    number = serializers.CharField()
    item_code = serializers.CharField(source="item.code")
    item_name = serializers.CharField(source="version.name")
    department_id = serializers.IntegerField()
    department = serializers.CharField(source="department.name")
    region_code = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    level = serializers.ChoiceField(
        source=selectors.LIMIT_LEVEL, choices=["red", "yellow"], help_text="red 已超期，yellow 即将到期"
    )
    due_date = serializers.SerializerMethodField(help_text="受理期限（待受理时）或办结期限")
    overdue_days = serializers.IntegerField(help_text="超期工作日数（红色时）")

    def get_due_date(self, case) -> str | None:
        due = case.acceptance_due if case.status == "submitted" else case.due_date
        return due.isoformat() if due else None


class SupervisedCases(APIView):
    """效能监督: the red and yellow open cases of the supervisor's regions; read only."""

    permission_classes = [IsAuthenticated]
    # the schema documents its GET as the page object (count, next, previous, results)
    pagination_class = Pagination

    @extend_schema(
        tags=[STAFF_TAG],
        summary="效能监督：本区划红黄牌办件（只读）",
        description="监督员所在部门的区划及其下辖区划内全部在办办件中，已超期（red）和即将到期（yellow）的办件。"
        "非监督员 403。",
        parameters=[
            OpenApiParameter("department", OpenApiTypes.INT, description="部门编号"),
            OpenApiParameter("level", OpenApiTypes.STR, enum=["red", "yellow"], description="预警颜色"),
        ],
        responses=SupervisedCaseOut(many=True),
    )
    def get(self, request):
        if not supervision.is_supervisor(request.user):
            raise Forbidden(_("仅监督员可以查看效能监督清单。"))
        department = request.query_params.get("department") or ""
        level = request.query_params.get("level") or None
        if level and level not in supervision.LEVELS:
            raise InvalidInput(_("预警颜色须为 red 或 yellow。"), field="level")
        cases = supervision.supervised_cases(
            request.user, department=int(department) if department.isdigit() else None, level=level
        )
        paginator = self.pagination_class()
        page = selectors.attach_overdue_days(paginator.paginate_queryset(cases, request, view=self))
        return paginator.get_paginated_response(SupervisedCaseOut(page, many=True).data)


# ---------------------------------------------------------------------------------------------
# Actions: POST /api/cases/{number}/<action>


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
