"""The OpenAPI schema (drf-spectacular): every operation documents the 4xx answers it can give, once
here rather than on each view, so that an endpoint added later is documented (and fuzzed) alike."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from yiwang.core.api import ErrorSerializer

ERRORS = {
    "400": "请求有误：参数、JSON 或字段内容不符合要求（detail 与 field 说明哪一项）",
    "401": "未登录：须以会话或 HTTP Basic 认证（见 WWW-Authenticate）",
    "403": "无权执行此操作",
    "404": "资源不存在（或无权查看）",
    "409": "与当前状态冲突（如重复操作、状态不允许）",
    "413": "请求内容过大（detail 说明上限）",
    "415": "不支持的请求内容类型",
    "429": "请求过于频繁，请稍后再试（见 Retry-After）",
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                answer = OpenApiResponse(ErrorSerializer, description=ERRORS[code])
                responses[code] = self._get_response_for_code(answer, code, direction=direction)
        return responses

    def _error_codes(self) -> list[str]:
        codes = ["400", "404"]
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes += ["401", "403"]
        if self.method in WRITES:
            codes += ["409", "413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        return codes
