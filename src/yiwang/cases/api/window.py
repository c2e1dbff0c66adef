"""REST endpoint of the comprehensive window (综窗): a window clerk takes in an application for any item
of any department, finding or registering the applicant by ID number.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from yiwang.core.fields import TYPED_CODE_MAX_LENGTH, max_length
from yiwang.identity.models import LegalPerson, NaturalPerson

from .. import services
from ._shared import (
    APPLICATION_DOC,
    IDEMPOTENCY,
    STAFF_TAG,
    ApplicationIn,
    CaseDetailOut,
    _detail,
    _form_data,
    _idempotency_key,
    _uploads,
    created_or_replayed,
)


class WindowCaseIn(ApplicationIn):
    id_number = serializers.CharField(max_length=TYPED_CODE_MAX_LENGTH, help_text="申请人（或经办人）公民身份号码")
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length(NaturalPerson, "name"), help_text="新登记申请人时必填"
    )
    phone = serializers.CharField(required=False, allow_blank=True, max_length=max_length(NaturalPerson, "phone"))
    address = serializers.CharField(required=False, allow_blank=True, max_length=max_length(NaturalPerson, "address"))
    org_uscc = serializers.CharField(required=False, allow_blank=True, max_length=TYPED_CODE_MAX_LENGTH)
    org_name = serializers.CharField(required=False, allow_blank=True, max_length=max_length(LegalPerson, "name"))
    accept = serializers.BooleanField(required=False, default=False)


class WindowCaseCreate(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=[STAFF_TAG],
        summary="综窗收件（任一部门的任一事项）",
        description="窗口受理员按身份证号查找或登记申请人，代为提交申请；`accept=true` 时当场受理并出具受理回执。"
        + APPLICATION_DOC,
        parameters=[IDEMPOTENCY],
        request={"multipart/form-data": WindowCaseIn, "application/json": WindowCaseIn},
        responses={
            201: CaseDetailOut,
            200: OpenApiResponse(CaseDetailOut, description="同一 Idempotency-Key 的重试：首次提交的同一办件"),
        },
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
        return _detail(request, case, created_or_replayed(case))
