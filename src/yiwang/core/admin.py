"""Admin for the platform's primitives. Audit records and keys are read-only here: audit events are
written by services only, and keys change only by rotation (an admin action that calls ``keys.rotate``)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import keys
from .calendar import ScheduleDay
from .errors import YiwangError
from .models import AuditCheckpoint, AuditEvent, CalendarDay, CalendarYear, SigningKey
from .schedule_file import read_schedule
from .services import publish_schedule
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
    list_display = ["id", "subject_type", "subject_id", "seq", "action", "actor", "actor_role", "at", "checkpoint"]
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


# --- working-day calendar ---------------------------------------------------------------------------


class CalendarDayFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        year = self.instance.year or self.data.get("year")
        for form in self.forms:
            date = form.cleaned_data.get("date") if hasattr(form, "cleaned_data") else None
            if date and year and not form.cleaned_data.get("DELETE") and str(date.year) != str(year):
                form.add_error("date", _("%(d)s 不在 %(y)s 年内。") % {"d": date.isoformat(), "y": year})


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    formset = CalendarDayFormSet
    fields = ["date", "is_workday", "name"]
    extra = 3
    verbose_name = _("节假日或调休上班日")
    verbose_name_plural = _("节假日和调休上班日（只列出与“周一至周五上班”不同的日子）")


class ImportScheduleForm(forms.Form):
    file = forms.FileField(label=_("文件（CSV 或 xlsx）"), help_text=_("列：日期、是否上班、名称；一个文件一个年份。"))
    source = forms.CharField(label=_("来源"), max_length=200, required=False)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """A year's official schedule with its days. Saving goes through ``publish_schedule``, which
    replaces the year's days in one transaction and has provisional due dates recomputed."""

    list_display = ["year", "source", "holiday_count", "workday_count", "updated_at"]
    fields = ["year", "source"]
    inlines = [CalendarDayInline]
    change_list_template = "admin/core/calendaryear/change_list.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                holidays=Count("days", filter=Q(days__is_workday=False)),
                workdays=Count("days", filter=Q(days__is_workday=True)),
            )
        )

    @admin.display(description=_("休息日"), ordering="holidays")
    def holiday_count(self, obj) -> int:
        return obj.holidays

    @admin.display(description=_("调休上班日"), ordering="workdays")
    def workday_count(self, obj) -> int:
        return obj.workdays

    def get_readonly_fields(self, request, obj=None):
        return ["year"] if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        # a published schedule is corrected, never withdrawn: due dates already depend on it
        return False

    def save_model(self, request, obj, form, change) -> None:
        """Nothing here: the year is written together with its days in ``save_related``."""

    def save_related(self, request, form, formsets, change) -> None:
        days = []
        for formset in formsets:
            for day_form in formset.forms:
                data = getattr(day_form, "cleaned_data", None)
                if not data or data.get("DELETE") or not data.get("date"):
                    continue
                days.append(ScheduleDay(data["date"], bool(data.get("is_workday")), data.get("name", "")))
        publish_schedule(form.instance.year, days, form.cleaned_data.get("source", ""), actor=request.user)
        for formset in formsets:
            # the change message reads what a formset saved; the service saved it, and audited it
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def changelist_view(self, request, extra_context=None):
        next_year = dt.date.today().year + 1
        if not CalendarYear.objects.filter(year=next_year).exists():
            messages.warning(
                request,
                _(
                    "%(y)d 年的节假日安排尚未录入：涉及该年的期限暂按周一至周五扣除法定节假日计算（调休未知），"
                    "并标注为“暂定”。国务院办公厅公布后请在此录入或导入。"
                )
                % {"y": next_year},
            )
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="core_calendaryear_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = ImportScheduleForm(request.POST or None, request.FILES or None)
        errors: list = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                year, days = read_schedule(upload, upload.name)
                publish_schedule(year, days, form.cleaned_data["source"] or upload.name, actor=request.user)
            except YiwangError as exc:
                form.add_error("file", exc.message)
                errors = exc.errors or []
            else:
                self.message_user(request, _("已导入 %(y)d 年节假日安排。") % {"y": year}, messages.SUCCESS)
                return redirect(reverse("admin:core_calendaryear_change", args=[year]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("导入节假日安排"),
            "form": form,
            "row_errors": errors,
        }
        return TemplateResponse(request, "admin/core/calendaryear/import.html", context)


@admin.register(CalendarDay)
class CalendarDayAdmin(ReadOnlyAdmin):
    """All days at a glance; they are edited with their year."""

    list_display = ["date", "weekday", "is_workday", "name", "year"]
    list_filter = ["year", "is_workday"]
    search_fields = ["name"]
    date_hierarchy = "date"

    @admin.display(description=_("星期"))
    def weekday(self, obj) -> str:
        return "一二三四五六日"[obj.date.weekday()]
