"""Admin for the platform's primitives. Audit records and keys are read-only here: audit events are
written by services only, and keys change only by rotation (an admin action that calls ``keys.rotate``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import keys
from .models import AuditCheckpoint, AuditEvent, SigningKey
from .sm import public_key_pem


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["owner", "key_id", "active", "valid_from", "valid_until"]
    list_filter = ["active"]
    search_fields = ["owner", "key_id"]
    # the encrypted private key is deliberately absent: it never leaves the keys module
    fields = ["owner", "key_id", "active", "valid_from", "valid_until", "public_key_pem"]
    readonly_fields = fields
    actions = ["rotate_keys"]

    @admin.display(description=_("公钥（PEM）"))
    def public_key_pem(self, obj: SigningKey) -> str:
        return format_html("<pre>{}</pre>", public_key_pem(bytes(obj.public_key)))

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    @admin.action(description=_("轮换所选持有者的密钥（旧密钥保留用于验证）"))
    def rotate_keys(self, request, queryset) -> None:
        owners = sorted(set(queryset.values_list("owner", flat=True)))
        for owner in owners:
            keys.rotate(owner, actor=request.user)
        self.message_user(request, _("已为 %(n)d 个持有者生成新密钥。") % {"n": len(owners)}, messages.SUCCESS)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "subject_type", "subject_id", "seq", "action", "actor", "actor_role", "at"]
    list_filter = ["subject_type", "action"]
    search_fields = ["subject_id", "actor", "hash"]
    date_hierarchy = "at"


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "event_count", "first_event_id", "last_event_id", "merkle_root", "key_id"]
    exclude = ["signature"]
    readonly_fields = ["signature_hex"]

    @admin.display(description=_("签名（DER，十六进制）"))
    def signature_hex(self, obj: AuditCheckpoint) -> str:
        return bytes(obj.signature).hex()
