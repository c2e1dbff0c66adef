"""Catalog administration (Chinese): items, versions with their materials and stages, Excel import
and export. Every change goes through ``yiwang.catalog.services``; published versions are shown
read-only (the admin never offers a way to change them)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.core.errors import YiwangError

from . import excel, services
from .guide import material_file_url
from .models import ExerciseLevel, ItemVersion, MaterialRequirement, ServiceItem, Stage, Synonym

# --- items -------------------------------------------------------------------------------------


class ServiceItemAddForm(forms.ModelForm):
    """A new item: its 实施编码 is built from department, level and 基本编码 by the service."""

    exercise_level = forms.ChoiceField(label=gettext_lazy("行使层级"), choices=ExerciseLevel.choices)

    class Meta:
        model = ServiceItem
        fields = ["base_code", "exercise_level", "department", "region"]
        help_texts = {
            "base_code": gettext_lazy("12位数字或大写字母；实施编码 = 实施机构统一社会信用代码 + 行使层级 + 基本编码")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].required = False
        self.fields["region"].help_text = _("留空表示实施机构所在区划")

    def clean(self):
        data = super().clean()
        base = (data.get("base_code") or "").strip().upper()
        if base and not services.BASE_CODE_RE.match(base):
            self.add_error("base_code", _("基本编码应为12位数字或大写字母。"))
        elif base and data.get("department") and data.get("exercise_level"):
            code = services.implementation_code(data["department"].credit_code, data["exercise_level"], base)
            if ServiceItem.objects.filter(code=code).exists():
                self.add_error("base_code", _("实施编码 %(c)s 的事项已存在。") % {"c": code})
        data["base_code"] = base
        return data

    def _post_clean(self):
        # the code is the service's to build; the instance is not validated here
        pass


class ItemVersionInline(admin.TabularInline):
    model = ItemVersion
    fields = ["version_link", "status", "effective_from", "published_at", "retired_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name = gettext_lazy("版本")
    verbose_name_plural = gettext_lazy("各版本（实施清单）")
    ordering = ["-number"]

    @admin.display(description=gettext_lazy("版本"))
    def version_link(self, obj: ItemVersion) -> str:
        url = reverse("admin:catalog_itemversion_change", args=[obj.pk])
        return format_html('<a href="{}">{} 第{}版</a>', url, obj.name, obj.number)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ["code", "current_name", "department", "region", "versions_summary"]
    list_filter = ["department", "region"]
    search_fields = ["code", "base_code", "versions__name", "department__name"]
    inlines = [ItemVersionInline]
    change_list_template = "admin/catalog/serviceitem/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("department", "region").prefetch_related("versions")

    @staticmethod
    def _current(obj: ServiceItem) -> ItemVersion | None:
        # from the prefetched versions: the changelist would otherwise query twice per row
        today = timezone.localdate()
        in_force = [
            v
            for v in obj.versions.all()
            if v.status == ItemVersion.Status.PUBLISHED and v.effective_from and v.effective_from <= today
        ]
        return max(in_force, key=lambda v: (v.effective_from, v.number), default=None)

    @admin.display(description=gettext_lazy("现行名称"))
    def current_name(self, obj: ServiceItem) -> str:
        current = self._current(obj)
        return current.name if current else "—"

    @admin.display(description=gettext_lazy("版本"))
    def versions_summary(self, obj: ServiceItem) -> str:
        current = self._current(obj)
        drafts = [v.number for v in obj.versions.all() if v.status == ItemVersion.Status.DRAFT]
        parts = [_("现行第%(n)d版") % {"n": current.number} if current else _("无现行版本")]
        if drafts:
            parts.append(_("草稿第%(n)d版") % {"n": drafts[0]})
        return "，".join(parts)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ServiceItemAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["base_code", "exercise_level", "department", "region"]
        return ["code", "base_code", "department", "region", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["code", "base_code", "department", "region", "created_at"]

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing of an item is editable after creation
        data = form.cleaned_data
        item = services.create_item(
            base_code=data["base_code"],
            department=data["department"],
            exercise_level=data["exercise_level"],
            region=data.get("region"),
            actor=request.user,
        )
        obj.pk, obj.code, obj.created_at = item.pk, item.code, item.created_at
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, _("已创建事项 %(c)s，请为它新建第一个草稿版本。") % {"c": obj.code})
        return HttpResponseRedirect(reverse("admin:catalog_itemversion_add") + f"?item={obj.pk}")

    def has_delete_permission(self, request, obj=None) -> bool:
        # published versions are kept for the cases filed under them
        if obj is not None and obj.versions.exclude(status=ItemVersion.Status.DRAFT).exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self):
        own = [
            path("import/", self.admin_site.admin_view(self.import_view), name="catalog_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name="catalog_export"),
        ]
        return own + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not services.can_manage_catalog(request.user):
            raise PermissionDenied
        form = CatalogImportForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                result = excel.import_workbook(
                    form.cleaned_data["file"],
                    actor=request.user,
                    effective_from=form.cleaned_data["effective_from"],
                )
            except YiwangError as exc:
                errors = [str(e) for e in exc.errors] if isinstance(exc.errors, list) else [exc.message]
            else:
                messages.success(request, result.summary)
                return HttpResponseRedirect(reverse("admin:catalog_serviceitem_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("导入实施清单"),
            "form": form,
            "import_errors": errors,
            "columns": excel.SHEETS,
        }
        return TemplateResponse(request, "admin/catalog/import.html", context, status=400 if errors else 200)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        filename = f"实施清单-{timezone.localdate():%Y%m%d}.xlsx"
        response = HttpResponse(
            excel.export_workbook(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response


class CatalogImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("实施清单工作簿（.xlsx）"))
    effective_from = forms.DateField(
        label=gettext_lazy("生效日期"),
        required=False,
        help_text=gettext_lazy("留空表示今天；格式 年-月-日"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


# --- versions ----------------------------------------------------------------------------------


class DraftOnlyInlineMixin:
    """Materials and stages can be edited only while their version is a draft."""

    extra = 0

    def _editable(self, obj) -> bool:
        return obj is None or obj.status == ItemVersion.Status.DRAFT

    def has_add_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


class _GuideFileLink:
    """What the file widget shows of a stored file: its name, linked to the guide's download."""

    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url

    def __str__(self) -> str:
        return self.name


class GuideFileWidget(AdminFileWidget):
    """The file input of a blank form or sample, its current file linked to the guide's download."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        material = getattr(value, "instance", None)
        if self.is_initial(value) and getattr(material, "pk", None):
            shown = value.name.rsplit("/", 1)[-1]
            context["widget"]["value"] = _GuideFileLink(shown, material_file_url(material, value.field.name))
        return context


class MaterialInline(DraftOnlyInlineMixin, admin.StackedInline):
    model = MaterialRequirement
    formfield_overrides = {models.FileField: {"widget": GuideFileWidget}}
    fields = [
        ("order", "name", "required", "copies", "kind"),
        ("source", "source_ref", "formats"),
        ("basis", "note"),
        ("blank_form", "sample"),
    ]
    readonly_fields = ["blank_form_link", "sample_link"]

    def get_fields(self, request, obj=None):
        if self._editable(obj):
            return self.fields
        # a published version's materials are read only: their files link to the guide's download
        return [("blank_form_link", "sample_link") if row == ("blank_form", "sample") else row for row in self.fields]

    def _file_link(self, material: MaterialRequirement, kind: str) -> str:
        stored = getattr(material, kind)
        if not stored or not material.pk:
            return "-"
        return format_html('<a href="{}">{}</a>', material_file_url(material, kind), stored.name.rsplit("/", 1)[-1])

    @admin.display(description=gettext_lazy("空白表格"))
    def blank_form_link(self, material: MaterialRequirement) -> str:
        return self._file_link(material, "blank_form")

    @admin.display(description=gettext_lazy("示例样表"))
    def sample_link(self, material: MaterialRequirement) -> str:
        return self._file_link(material, "sample")


class StageInline(DraftOnlyInlineMixin, admin.TabularInline):
    model = Stage
    fields = ["order", "name", "kind", "role", "department", "time_share", "parallel_group"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "role":
            return forms.ChoiceField(label=db_field.verbose_name, choices=excel.StageRole.choices)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ItemVersionForm(forms.ModelForm):
    class Meta:
        model = ItemVersion
        fields = ["item", *[f for f in services.VERSION_FIELDS if f != "exercise_level"]]
        widgets = {"form_schema": forms.Textarea(attrs={"rows": 12, "cols": 100, "style": "font-family: monospace"})}

    def clean(self):
        data = super().clean()
        item = data.get("item") or (self.instance.item if self.instance.item_id else None)
        if item is not None and self.instance.pk is None:
            draft = item.versions.filter(status=ItemVersion.Status.DRAFT).first()
            if draft is not None:
                self.add_error("item", _("该事项已有草稿版本（第%(n)d版），请编辑该草稿。") % {"n": draft.number})
        return data

    def _post_clean(self):
        super()._post_clean()
        instance = self.instance
        if not instance.item_id or self.errors:
            return
        instance.exercise_level = instance.exercise_level or instance.item.code[18]
        try:
            services.check_consistency(instance, instance.item)
        except YiwangError as exc:
            for name, message in (exc.errors or {}).items():
                self.add_error(name if name in self.fields else None, message)


@admin.register(ItemVersion)
class ItemVersionAdmin(admin.ModelAdmin):
    form = ItemVersionForm
    list_display = ["name", "item_code", "number", "status", "effective_from", "published_at"]
    list_filter = ["status", "item_type", "theme", "service_object", "handling", "online_depth"]
    search_fields = ["name", "keywords", "item__code"]
    autocomplete_fields = ["item"]
    inlines = [MaterialInline, StageInline]
    actions = ["publish_versions", "retire_versions", "new_drafts", "delete_drafts"]
    change_form_template = "admin/catalog/itemversion/change_form.html"
    fieldsets = [
        (gettext_lazy("基本信息"), {"fields": ["item", "name", "item_type", "service_object", "theme", "keywords"]}),
        (gettext_lazy("依据与条件"), {"fields": ["legal_basis", "conditions"]}),
        (
            gettext_lazy("办理要求"),
            {
                "fields": [
                    "handling",
                    ("statutory_days", "promised_days", "acceptance_days"),
                    ("online_depth", "max_visits"),
                    "process_description",
                ]
            },
        ),
        (gettext_lazy("收费"), {"fields": [("fee", "fee_before_completion"), "fee_basis"]}),
        (gettext_lazy("办理地点与咨询"), {"fields": ["location", "hours", ("consult_phone", "complaint_phone")]}),
        (gettext_lazy("办理结果"), {"fields": ["result_type", "result_name", "result_licence_type"]}),
        (gettext_lazy("申请表定义"), {"fields": ["form_schema"]}),
    ]

    @admin.display(description=gettext_lazy("实施编码"), ordering="item__code")
    def item_code(self, obj: ItemVersion) -> str:
        return obj.item.code

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["item", "exercise_level", "number", "status", "effective_from", "published_at", "retired_at"]
        return []

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(self.fieldsets)
        if obj is not None:
            fieldsets.insert(
                0,
                (
                    gettext_lazy("版本"),
                    {
                        "fields": [
                            ("number", "status", "exercise_level"),
                            ("effective_from", "published_at", "retired_at"),
                        ]
                    },
                ),
            )
        return fieldsets

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        item_id = request.GET.get("item")
        if item_id:
            item = ServiceItem.objects.filter(pk=item_id).first()
            version = item.versions.order_by("-number").first() if item else None
            if version is not None:
                initial.update({f: getattr(version, f) for f in services.VERSION_FIELDS})
        return initial

    def has_change_permission(self, request, obj=None) -> bool:
        # a published or retired version is shown, never edited
        if obj is not None and obj.status != ItemVersion.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != ItemVersion.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.delete_draft(obj, actor=request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        fields = {f: getattr(obj, f) for f in services.VERSION_FIELDS if f != "exercise_level"}
        if change:
            saved = services.update_draft(obj, actor=request.user, **fields)
        else:
            saved = services.create_draft(obj.item, actor=request.user, **fields)
        obj.pk, obj.number, obj.exercise_level, obj.status = saved.pk, saved.number, saved.exercise_level, saved.status
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for part in formset.deleted_objects:
            services.delete_part(part, actor=request.user)
        for part in instances:
            services.save_part(part, actor=request.user)

    def _each(self, request, queryset, call, done: str) -> list[ItemVersion]:
        results = []
        for version in queryset.select_related("item"):
            try:
                results.append(call(version))
            except YiwangError as exc:
                self.message_user(request, f"{version}：{exc.message}", messages.ERROR)
        if results:
            self.message_user(request, done % {"n": len(results)}, messages.SUCCESS)
        return results

    @admin.action(description=gettext_lazy("发布所选版本（今天生效）"), permissions=["publish"])
    def publish_versions(self, request, queryset):
        self._each(request, queryset, lambda v: services.publish(v, actor=request.user), _("已发布%(n)d个版本。"))

    @admin.action(description=gettext_lazy("停用所选版本"), permissions=["publish"])
    def retire_versions(self, request, queryset):
        self._each(request, queryset, lambda v: services.retire(v, actor=request.user), _("已停用%(n)d个版本。"))

    @admin.action(description=gettext_lazy("基于所选版本新建草稿版本"), permissions=["publish"])
    def new_drafts(self, request, queryset):
        drafts = self._each(
            request, queryset, lambda v: services.new_draft_from(v, actor=request.user), _("已新建%(n)d个草稿版本。")
        )
        if len(drafts) == 1:
            return HttpResponseRedirect(reverse("admin:catalog_itemversion_change", args=[drafts[0].pk]))
        return None

    @admin.action(description=gettext_lazy("删除所选草稿"), permissions=["publish"])
    def delete_drafts(self, request, queryset):
        self._each(request, queryset, lambda v: services.delete_draft(v, actor=request.user), _("已删除%(n)d个草稿。"))

    def has_publish_permission(self, request) -> bool:
        return services.can_manage_catalog(request.user)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/operation/<str:operation>/",
                self.admin_site.admin_view(require_POST(self.operation_view)),
                name="catalog_itemversion_operation",
            ),
        ]
        return own + super().get_urls()

    OPERATIONS = {
        "publish": (lambda v, u: services.publish(v, actor=u), gettext_lazy("已发布，今天起生效。")),
        "retire": (lambda v, u: services.retire(v, actor=u), gettext_lazy("已停用。")),
        "new-draft": (lambda v, u: services.new_draft_from(v, actor=u), gettext_lazy("已新建草稿版本。")),
    }

    def operation_view(self, request: HttpRequest, pk: int, operation: str) -> HttpResponse:
        """The buttons of the change page: 发布 / 停用 / 新建草稿版本 for one version."""
        if operation not in self.OPERATIONS or not self.has_publish_permission(request):
            raise PermissionDenied
        version = get_object_or_404(ItemVersion, pk=pk)
        call, done = self.OPERATIONS[operation]
        try:
            result = call(version, request.user)
        except YiwangError as exc:
            messages.error(request, exc.message)
            result = version
        else:
            messages.success(request, f"{result}：{done}")
        return HttpResponseRedirect(reverse("admin:catalog_itemversion_change", args=[result.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_publish"] = self.has_publish_permission(request)
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- synonyms ----------------------------------------------------------------------------------


class SynonymForm(forms.ModelForm):
    class Meta:
        model = Synonym
        fields = ["phrase", "words"]

    def _post_clean(self):
        # the service cleans and validates (and names the field); see SynonymAdmin.save_model
        pass

    def clean(self):
        data = super().clean()
        try:
            services.check_synonym(data.get("phrase") or "", data.get("words") or "", exclude_pk=self.instance.pk)
        except YiwangError as exc:
            for name, message in (exc.errors or {}).items():
                self.add_error(name if name in self.fields else None, message)
        return data


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    """同义词: what people type and the catalog's words for it; every change audited through the services."""

    form = SynonymForm
    list_display = ["phrase", "words", "updated_at"]
    search_fields = ["phrase", "words"]

    def has_module_permission(self, request) -> bool:
        return services.can_manage_catalog(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return services.can_manage_catalog(request.user)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.update_synonym(obj, phrase=data["phrase"], words=data["words"], actor=request.user)
        else:
            saved = services.create_synonym(phrase=data["phrase"], words=data["words"], actor=request.user)
        obj.pk, obj.phrase, obj.words = saved.pk, saved.phrase, saved.words
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.delete_synonym(obj, actor=request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a queryset delete would bypass the audit
        return actions
