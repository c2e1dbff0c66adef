"""What the apps' REST modules share without depending on the api package: the error body."""

from __future__ import annotations

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every 4xx answer of the API: ``{code, detail, field?, errors?}`` (api/errors.py)."""

    code = serializers.CharField(help_text="invalid / too_deep / invalid_json / not_found / forbidden / conflict / …")
    detail = serializers.CharField(help_text="中文说明")
    field = serializers.CharField(required=False, help_text="有误的字段")
    errors = serializers.JSONField(required=False, help_text="逐项错误：字段名 → 说明")
