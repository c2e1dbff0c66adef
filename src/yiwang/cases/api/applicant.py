"""REST endpoints for applicants: my cases, online submission, drafts, the offers of material sources
(免提交), a case's detail, downloads of its documents and materials, resubmission and withdrawal, and
payment (the provider's cashier, or the development cashier).

A case is always looked up with the caller's rights (``selectors.case_for_user``): another person's
case number answers 404, exactly like a number that does not exist.
"""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.catalog import selectors as catalog_selectors
from yiwang.catalog.models import ServiceItem
from yiwang.core.errors import NotFound
from yiwang.core.fields import max_length
from yiwang.identity import selectors as identity_selectors

from .. import selectors, services
from ..models import Case, PaymentOrder
from ._shared import (
    APPLICATION_DOC,
    IDEMPOTENCY,
    TAG,
    ApplicationIn,
    CaseDetailOut,
    CaseSummaryOut,
    Pagination,
    PaymentOut,
    ReasonIn,
    SubmittedOut,
    _detail,
    _form_data,
    _idempotency_key,
    _In,
    _uploads,
    case_to_act_on,
    created_or_replayed,
    submitted,
    summary_rows,
)


class PayIn(_In):
    order = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=max_length(PaymentOrder, "number"),
        help_text="缺省为该办件的待缴费单",
    )


class CaseListCreate(APIView):
    permission_classes = [IsAuthenticated]
    # the schema documents its GET as the page object (count, next, previous, results)
    pagination_class = Pagination

    @extend_schema(tags=[TAG], summary="我的办件", responses=CaseSummaryOut(many=True))
    def get(self, request):
        qs = summary_rows(
            selectors.cases_for_applicant(request.user, status=request.query_params.get("status"), include_drafts=False)
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CaseSummaryOut(page, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="网上申报（提交申请）",
        description=APPLICATION_DOC,
        parameters=[IDEMPOTENCY],
        request={"multipart/form-data": ApplicationIn, "application/json": ApplicationIn},
        responses={
            201: OpenApiResponse(SubmittedOut, description="已提交：办件编号、状态和详情链接（亦在 Location 头中）"),
            200: OpenApiResponse(SubmittedOut, description="同一 Idempotency-Key 的重试：首次提交的同一办件"),
        },
    )
    def post(self, request):
        data = ApplicationIn.parse(request.data)
        key = _idempotency_key(request)
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
        return submitted(case, created_or_replayed(case))


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


class DraftMaterial(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        summary="草稿删除一份材料（已上传的文件或选用的电子证照/共享数据）",
        description="幂等：该材料已不在草稿中时同样返回 204。",
        responses={204: None},
    )
    def delete(self, request, draft_id: int, requirement_id: int):
        services.remove_draft_material(request.user, _own_draft(request, draft_id), requirement_id)
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
        files, offers = _uploads(request)
        # the services check the draft (and answer a replay of the key with its case) under a row lock
        case = services.submit_case(
            request.user,
            case=draft_id,
            form_data=_form_data(request.data),
            files=files,
            offers=offers,
            applicant_org=data.get("applicant_org"),
            delivery_method=data.get("delivery_method"),
            delivery_address=data.get("delivery_address"),
            idempotency_key=_idempotency_key(request),
        )
        return _detail(request, case, created_or_replayed(case))


def _version_and_org(request):
    """The online version of ``?item=`` (code or id) and the organisation of ``?applicant_org=``, which the
    caller must be entitled to act for."""
    item = request.query_params.get("item", "")
    found = ServiceItem.objects.filter(code=item).first() or (
        ServiceItem.objects.filter(pk=int(item)).first() if item.isdigit() and len(item) < 12 else None
    )
    if found is None:
        raise NotFound(_("未找到该事项。"), field="item")
    version = catalog_selectors.online_version(found)
    org = None
    if request.query_params.get("applicant_org"):
        org = services.acting_organisation(request.user, request.query_params["applicant_org"])
    return version, org


ITEM_PARAMS = [
    OpenApiParameter("item", OpenApiTypes.STR, required=True, description="事项实施编码或编号"),
    OpenApiParameter("applicant_org", OpenApiTypes.STR, description="以单位名义申请时的统一社会信用代码"),
]


class Prefill(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        summary="申请表预填值（按当前账号的实名信息和所代表的单位）",
        description=(
            "申请表定义中声明了 prefill 的字段，按当前账号的实名信息（姓名、公民身份号码、手机号码、联系地址）"
            "和以 applicant_org 代表的单位（名称、统一社会信用代码、法定代表人、住所）给出预填值；"
            "没有登记的信息不返回。"
            "公民身份号码只以脱敏形式返回（masked=true）：提交申请时将该字段留空或原样回传脱敏值，"
            "服务端即以账号的完整号码填入。"
        ),
        parameters=ITEM_PARAMS,
        responses=inline_serializer(
            "PrefillValue",
            {
                "field": serializers.CharField(help_text="申请表字段名"),
                "source": serializers.CharField(help_text="信息来源，如 person.phone、org.uscc"),
                "value": serializers.CharField(help_text="预填值（公民身份号码为脱敏值）"),
                "masked": serializers.BooleanField(help_text="是否为脱敏值（提交时由服务端换成完整号码）"),
            },
            many=True,
        ),
    )
    def get(self, request):
        version, org = _version_and_org(request)
        values = identity_selectors.prefill_values(selectors.person_of(request.user), org)
        return Response(
            [
                {
                    "field": spec["name"],
                    "source": spec["prefill"],
                    "value": values[spec["prefill"]],
                    "masked": spec["prefill"] == identity_selectors.MASKED_PREFILL,
                }
                for spec in version.form_schema or []
                if isinstance(spec, dict) and spec.get("name") and values.get(spec.get("prefill") or "")
            ]
        )


class Offers(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[TAG],
        summary="可免提交的材料来源（电子证照、共享数据）",
        parameters=ITEM_PARAMS,
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
        version, org = _version_and_org(request)
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
        services.record_download(request.user, document=document)
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
        services.record_download(request.user, material=material)
        return FileResponse(
            material.file.open("rb"),
            content_type=material.content_type or "application/octet-stream",
            as_attachment=True,
            filename=f"{material.display_name}.{ext}",
        )


# ---------------------------------------------------------------------------------------------
# Applicant actions and payment


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
        case = case_to_act_on(request.user, number)
        return Response({"checkout_url": _pay(request, case, PayIn.parse(request.data))})


class DevPay(APIView):
    """The development payment provider's cashier: the payer confirms, the provider calls back."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=[TAG], summary="开发环境模拟支付（DevPaymentProvider）", request=None, responses=PaymentOut)
    def post(self, request, order_number: str):
        return Response(PaymentOut(services.simulate_payment(request.user, order_number)).data)


APPLICANT_ACTIONS = [
    ("resubmit", "提交补正材料", None, _resubmit, APPLICATION_DOC),
    ("withdraw", "撤回申请", ReasonIn, lambda r, c, d: services.withdraw(r.user, c, reason=d["reason"]), ""),
]
