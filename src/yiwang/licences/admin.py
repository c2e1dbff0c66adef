"""Admin of the licence library: the licence catalogue is edited here (through the service, with an
audit event); licences, uses and imports are read-only — they change only through the services — and
show the holder's ID number masked. Key material is never shown (see core's SigningKey admin)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from .models import ImportBatch, Licence, LicenceType, LicenceUse
from .services import save_licence_type


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LicenceType)
class LicenceTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "holder_kind", "validity_years", "issuer_kind", "active"]
    list_filter = ["holder_kind", "active"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change) -> None:
        save_licence_type(obj, actor=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # retire a type by unticking 启用: licences refer to it


@admin.register(Licence)
class LicenceAdmin(ReadOnly):
    list_display = ["number", "name", "version", "holder_name", "holder_masked", "issuer_name", "issue_date",
                    "valid_until", "status"]  # fmt: skip
    list_filter = ["status", "origin", "type_code"]
    search_fields = ["number", "identifier", "holder_name", "case_number"]
    date_hierarchy = "issue_date"
    # the clear holder code, the signed payload (it contains the code) and the signature bytes stay out
    fields = ["identifier", "name", "type_code", "number", "version", "issuer_name", "issuer_code", "issue_date",
              "holder_name", "holder_masked", "holder_code_type", "valid_from", "valid_until", "region_code", "face",
              "status", "status_reason", "status_changed_at", "origin", "case_number", "key_id", "signed_at",
              "payload_hash"]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("licence_type")

    @admin.display(description=_("照面信息"))
    def face(self, obj: Licence) -> str:
        # by the type's labels (经营者名称：…), not the stored JSON with its field codes ("shop_name")
        labels = obj.licence_type.field_labels()
        return format_html_join(
            "", "<div>{}：{}</div>", ((labels.get(name, name), value) for name, value in (obj.data or {}).items())
        )


@admin.register(LicenceUse)
class LicenceUseAdmin(ReadOnly):
    list_display = ["licence", "department", "case_number", "material_name", "granted_by", "granted_at"]
    search_fields = ["case_number", "licence__number"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnly):
    list_display = ["file_name", "status", "total_rows", "imported", "rejected", "started_at", "finished_at"]
    readonly_fields = ["file_name", "file_sm3", "status", "total_rows", "imported", "rejected", "actor",
                       "started_at", "finished_at"]  # fmt: skip
