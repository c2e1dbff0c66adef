"""REST endpoints of the licence library (mounted under /api/). Thin: selectors, services, verification.

Public (no account): the key listing, a key as PEM, licence types, verification of a file or of a
scanned QR code. Signed in: the wallet, a licence, its file/PDF, a QR token (holder), and the
issuer's actions (suspend, resume, revoke, renew, change).
"""

from __future__ import annotations

import datetime as dt
import json

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.core.errors import Forbidden, InvalidInput, NotFound
from yiwang.core.fields import max_length
from yiwang.core.models import SigningKey
from yiwang.core.sm import SIGNER_ID, public_key_pem
from yiwang.identity.models import Department

from . import selectors, services
from .display import licence_json
from .files import envelope_bytes, file_name, licence_pdf, qr_data_uri, verify_url
from .models import Licence
from .selectors import Access
from .verification import MAX_FILE_BYTES, QR_TOKEN_TTL, SHOW_CHOICES, check_scanned, make_qr_token, verify_file


class KeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    owner = serializers.CharField(help_text="颁发机构统一社会信用代码（或 platform）")
    owner_name = serializers.CharField()
    algorithm = serializers.CharField()
    signer_id = serializers.CharField()
    public_key_pem = serializers.CharField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()


class LicenceOut(serializers.Serializer):
    identifier = serializers.CharField()
    name = serializers.CharField()
    type_code = serializers.CharField()
    type_name = serializers.CharField()
    number = serializers.CharField()
    version = serializers.CharField()
    issuer = serializers.CharField()
    issuer_code = serializers.CharField()
    issue_date = serializers.DateField()
    holder = serializers.CharField()
    holder_code = serializers.CharField(help_text="持证人、颁发机构可见全文，其余脱敏")
    holder_code_type = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    region_code = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    status_reason = serializers.CharField()
    data = serializers.DictField()
    case_number = serializers.CharField()
    key_id = serializers.CharField()
    signed_at = serializers.DateTimeField(help_text="签发时间（北京时间，+08:00）")
    payload_sm3 = serializers.CharField()
    access = serializers.CharField(allow_null=True)


class VerdictOut(serializers.Serializer):
    genuine = serializers.BooleanField()
    checked = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    identifier = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    status_label = serializers.CharField()
    facts = serializers.DictField()
    checked_at = serializers.DateTimeField()


def _key_json(key: SigningKey, names: dict[str, str]) -> dict:
    return {
        "key_id": key.key_id,
        "owner": key.owner,
        "owner_name": names.get(key.owner, ""),
        "algorithm": "SM2-with-SM3",
        "signer_id": SIGNER_ID.decode(),
        "public_key_pem": public_key_pem(bytes(key.public_key)),
        "valid_from": key.valid_from.isoformat(),
        "valid_until": key.valid_until.isoformat() if key.valid_until else None,
        "active": key.active,
    }


class KeyList(APIView):
    """公开密钥列表: every department's SM2 public keys, current and retired, with validity periods."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        parameters=[OpenApiParameter("owner", str, description="只列出该颁发机构（统一社会信用代码）的密钥")],
        responses=KeySerializer(many=True),
        tags=["licences"],
    )
    def get(self, request):
        keys = SigningKey.objects.order_by("owner", "valid_from")
        owner = request.query_params.get("owner")
        if owner:
            keys = keys.filter(owner=owner.strip().upper())
        names = dict(Department.objects.values_list("credit_code", "name"))
        return Response([_key_json(k, names) for k in keys])


class KeyPem(APIView):
    """One public key as a PEM file (what `openssl dgst -verify` takes)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={(200, "application/x-pem-file"): OpenApiTypes.STR}, tags=["licences"])
    def get(self, request, key_id: str):
        key = SigningKey.objects.filter(key_id=key_id).first()
        if key is None:
            raise NotFound(_("签名密钥 %(k)s 不存在。") % {"k": key_id})
        return HttpResponse(public_key_pem(bytes(key.public_key)), content_type="application/x-pem-file")


class LicenceTypeOut(serializers.Serializer):
    code = serializers.CharField(help_text="证照类型代码")
    name = serializers.CharField()
    issuer_kind = serializers.CharField(help_text="颁发机构类别")
    holder_kind = serializers.CharField(help_text="持证主体类别：person / organisation / any")
    validity_years = serializers.IntegerField(allow_null=True, help_text="有效期（年）；空为长期")
    fields = serializers.ListField(child=serializers.DictField(), help_text="照面信息字段定义")


class TypeList(APIView):
    """证照目录: the licence types and the data fields each carries."""

    permission_classes = [AllowAny]

    @extend_schema(tags=["licences"], responses=LicenceTypeOut(many=True))
    def get(self, request):
        return Response(
            [
                {
                    "code": t.code,
                    "name": t.name,
                    "issuer_kind": t.issuer_kind,
                    "holder_kind": t.holder_kind,
                    "validity_years": t.validity_years,
                    "fields": t.fields,
                }
                for t in selectors.active_types()
            ]
        )


class Wallet(APIView):
    """我的证照: licences of the signed-in person and of the organisations they act for.
    ``?scope=issued`` lists instead what the user's departments issued (staff)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("scope", str, enum=["mine", "issued"])],
        responses=LicenceOut(many=True),
        tags=["licences"],
    )
    def get(self, request):
        if request.query_params.get("scope") == "issued":
            items = [(lic, Access.ISSUER) for lic in selectors.issued_by(request.user)[:500]]
        else:
            items = [(lic, Access.HOLDER) for lic in selectors.wallet(request.user)]
        return Response([licence_json(lic, access) for lic, access in items])


class Detail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=LicenceOut, tags=["licences"])
    def get(self, request, identifier: str):
        licence, access = selectors.licence_for(request.user, identifier)
        return Response(licence_json(licence, access))


def _own(request, identifier: str):
    """Holder or issuer only: the file and the PDF carry the full ID number."""
    licence, access = selectors.licence_for(request.user, identifier)
    if access not in (Access.HOLDER, Access.ISSUER):
        raise Forbidden(_("只有持证人和颁发机构可以下载证照文件。"))
    return licence


class File(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT}, tags=["licences"])
    def get(self, request, identifier: str):
        licence = _own(request, identifier)
        response = HttpResponse(envelope_bytes(licence), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{file_name(licence, "ylic")}"'
        return response


class Pdf(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY}, tags=["licences"])
    def get(self, request, identifier: str):
        licence = _own(request, identifier)
        response = HttpResponse(licence_pdf(licence), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{file_name(licence, "pdf")}"'
        return response


class QrToken(APIView):
    """亮证: a QR code for this licence, valid a few minutes, showing what the holder chooses."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=inline_serializer("QrRequest", {"show": serializers.ListField(child=serializers.CharField())}),
        responses=OpenApiTypes.OBJECT,
        tags=["licences"],
    )
    def post(self, request, identifier: str):
        licence, access = selectors.licence_for(request.user, identifier)
        if access != Access.HOLDER:
            raise Forbidden(_("只有持证人可以出示证照。"))
        show = request.data.get("show") or []
        if isinstance(show, str):
            show = [show]
        unknown = [s for s in show if s not in SHOW_CHOICES]
        if unknown:
            raise InvalidInput(_("不支持的出示内容：%(s)s。") % {"s": _("、").join(unknown)}, field="show")
        token = make_qr_token(licence, set(show))
        url = verify_url(licence, token)
        return Response({"token": token, "url": url, "expires_in": QR_TOKEN_TTL, "png": qr_data_uri(url)})


ACTIONS = {
    "suspend": services.suspend_licence,
    "resume": services.resume_licence,
    "revoke": services.revoke_licence,
}


class LicenceActionIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=max_length(Licence, "status_reason"))
    valid_until = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="YYYY-MM-DD")
    data = serializers.DictField(required=False, allow_null=True)
    holder_name = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=max_length(Licence, "holder_name")
    )


class Action(APIView):
    """The issuer's actions. Body: ``reason`` (required); ``valid_until`` for renew; ``data`` and/or
    ``holder_name`` for change. Renew and change answer with the new version."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=LicenceActionIn,
        responses=LicenceOut,
        tags=["licences"],
    )
    def post(self, request, identifier: str, action: str):
        licence, access = selectors.licence_for(request.user, identifier)
        if access != Access.ISSUER:
            raise Forbidden(_("只有颁发机构的工作人员可以办理此操作。"))
        checked = LicenceActionIn(data=request.data)
        checked.is_valid(raise_exception=True)  # lengths; the services check the rest
        reason = str(request.data.get("reason", ""))
        if action in ACTIONS:
            result = ACTIONS[action](licence, actor=request.user, reason=reason)
        elif action == "renew":
            result = services.renew_licence(
                licence, actor=request.user, reason=reason, valid_until=_date(request.data.get("valid_until"))
            )
        elif action == "change":
            data = request.data.get("data")
            if data is not None and not isinstance(data, dict):
                raise InvalidInput(_("照面信息应为对象。"), field="data")
            result = services.change_licence(
                licence, actor=request.user, reason=reason, data=data, holder_name=request.data.get("holder_name")
            )
        else:
            raise NotFound(_("不支持的操作。"))
        return Response(licence_json(result, Access.ISSUER))


def _date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(_("日期格式应为 YYYY-MM-DD。"), field="valid_until") from None


class Verify(APIView):
    """核验证照文件: POST the .ylic file (or the licence PDF) as multipart ``file``, or the .ylic JSON
    as the request body. Anyone may call it; the answer says genuine or not, why, and the status."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer("VerifyUpload", {"file": serializers.FileField()}),
            "application/json": OpenApiTypes.OBJECT,
        },
        responses=VerdictOut,
        tags=["licences"],
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is not None:
            if upload.size > MAX_FILE_BYTES:
                raise InvalidInput(_("文件过大（超过 5 MB），不是电子证照文件。"), field="file")
            content = upload.read()
        elif isinstance(request.data, dict) and request.data.get("format"):
            content = json.dumps(request.data, ensure_ascii=False).encode("utf-8")
        else:
            raise InvalidInput(_("请上传证照文件（.ylic 或证照 PDF）。"), field="file")
        return Response(verify_file(content).as_dict())


class Check(APIView):
    """扫码核验: the page a QR code opens, as JSON (``t`` is the token from the code)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(parameters=[OpenApiParameter("t", str, required=True)], responses=VerdictOut, tags=["licences"])
    def get(self, request, identifier: str):
        return Response(check_scanned(identifier, request.query_params.get("t", "")).as_dict())


urlpatterns = [
    path("licences/keys/", KeyList.as_view(), name="licences-keys"),
    path("licences/keys/<str:key_id>.pem", KeyPem.as_view(), name="licences-key-pem"),
    path("licences/types/", TypeList.as_view(), name="licences-types"),
    path("licences/verify/", Verify.as_view(), name="licences-verify"),
    path("licences/verify/<str:identifier>/", Check.as_view(), name="licences-check"),
    path("licences/", Wallet.as_view(), name="licences-list"),
    path("licences/<str:identifier>/", Detail.as_view(), name="licences-detail"),
    path("licences/<str:identifier>/file/", File.as_view(), name="licences-file"),
    path("licences/<str:identifier>/pdf/", Pdf.as_view(), name="licences-pdf"),
    path("licences/<str:identifier>/qr/", QrToken.as_view(), name="licences-qr"),
    path("licences/<str:identifier>/<str:action>/", Action.as_view(), name="licences-action"),
]
