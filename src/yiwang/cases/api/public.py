"""REST endpoints without a user account: the progress query (办件进度查询, throttled per address and
shared with the portal page) and the payment provider's signed callback.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from yiwang.core.http import client_ip

from .. import selectors, services
from ._shared import TAG


class ProgressThrottle(AnonRateThrottle):
    """Guessing the four characters of the progress query is limited per address (API and portal share it)."""

    scope = "progress"
    rate = "30/minute"

    def get_ident(self, request) -> str:
        # DRF's own would believe any X-Forwarded-For (NUM_PROXIES unset): a rotating header escaped the limit
        return client_ip(request)


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
