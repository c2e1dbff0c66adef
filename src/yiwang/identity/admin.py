"""Identity admin (Chinese). Changes go through ``identity.services``; ID numbers are masked except
for superusers, and the encrypted column is never shown."""

from __future__ import annotations

from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from yiwang.core.errors import InvalidInput, YiwangError
from yiwang.core.ids import is_citizen_id, mask_phone, normalize, validate_citizen_id, validate_uscc
from yiwang.core.sm import blind_index

from . import services
from .models import AgentAuthorization, Department, LegalPerson, NaturalPerson, Region, StaffRole, User, phone_digest


class AdministratorsOnly:
    """Superusers, holders of the administrator role, or users given the model permission."""

    def _allowed(self, request) -> bool:
        user = request.user
        return user.is_active and (
            user.is_superuser or user.staff_roles.filter(role=StaffRole.Role.ADMINISTRATOR).exists()
        )

    def has_module_permission(self, request) -> bool:
        return self._allowed(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return self._allowed(request) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request) or super().has_delete_permission(request, obj)


class ServiceErrorsAsMessages:
    """Business errors of a service, raised while saving, become a message instead of a 500."""

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except YiwangError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Region)
class RegionAdmin(AdministratorsOnly, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


class DepartmentForm(forms.ModelForm):
    def clean_credit_code(self) -> str:
        try:
            return validate_uscc(self.cleaned_data["credit_code"])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(Department)
class DepartmentAdmin(AdministratorsOnly, admin.ModelAdmin):
    form = DepartmentForm
    list_display = ["name", "short_name", "credit_code", "region", "parent", "phone"]
    list_filter = ["region"]
    search_fields = ["name", "short_name", "credit_code"]
    autocomplete_fields = ["region", "parent"]


class StaffRoleInline(admin.TabularInline):
    """Roles shown on the user; they are granted and revoked under 岗位角色 (through the services)."""

    model = StaffRole
    fields = ["department", "role"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(AdministratorsOnly, DjangoUserAdmin):
    list_display = ["username", "display_name", "masked_phone", "is_staff", "is_active", "roles"]
    search_fields = ["username", "display_name"]
    inlines = [StaffRoleInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("display_name", "phone", "email")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "display_name", "phone", "password1", "password2")}),
    )

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone) if obj.phone else ""

    def get_search_results(self, request, queryset, search_term):
        """The phone number is encrypted: a complete number finds its account through the blind index."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        phone = normalize(search_term)
        if len(phone) == 11 and phone.isdigit():
            found = found | queryset.filter(phone_digest=phone_digest(phone))
        return found, duplicates

    @admin.display(description=_("岗位角色"))
    def roles(self, obj: User) -> str:
        return "、".join(
            f"{r.department.short_name or r.department.name}·{r.get_role_display()}" for r in obj.staff_roles.all()
        )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("staff_roles__department")

    def get_inlines(self, request, obj):
        return self.inlines if obj else []  # a new user has no roles yet

    def get_readonly_fields(self, request, obj=None):
        # only a superuser makes superusers
        return [] if request.user.is_superuser else ["is_superuser", "user_permissions", "groups"]


class StaffRoleForm(forms.ModelForm):
    class Meta:
        model = StaffRole
        fields = ["user", "department", "role"]


@admin.register(StaffRole)
class StaffRoleAdmin(AdministratorsOnly, admin.ModelAdmin):
    form = StaffRoleForm
    list_display = ["user", "department", "role"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "user__display_name", "department__name"]
    autocomplete_fields = ["user", "department"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a role is granted or revoked, never edited

    def save_model(self, request, obj, form, change) -> None:
        saved = services.grant_role(user=obj.user, department=obj.department, role=obj.role, actor=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        services.revoke_role(user=obj.user, department=obj.department, role=obj.role, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset.select_related("user", "department"):
            self.delete_model(request, obj)


class NaturalPersonForm(forms.ModelForm):
    """Adding asks for the ID number; changing never shows or changes it."""

    id_number_input = forms.CharField(label=_("公民身份号码"), max_length=40, required=False)

    class Meta:
        model = NaturalPerson
        fields = ["name", "phone", "address", "region", "assurance_level"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["id_number_input"]
        else:
            self.fields["id_number_input"].required = True
            self.order_fields(["name", "id_number_input"])

    def clean_id_number_input(self) -> str:
        try:
            number = validate_citizen_id(self.cleaned_data["id_number_input"])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None
        if NaturalPerson.objects.filter(id_digest=blind_index(number)).exists():
            raise forms.ValidationError(_("该公民身份号码已登记，请直接查找该自然人。"))
        return number


class AgentInline(admin.TabularInline):
    model = AgentAuthorization
    fields = ["organisation", "valid_from", "valid_until"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("可代办的单位（在“经办人授权”中授权或撤销）")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(NaturalPerson)
class NaturalPersonAdmin(ServiceErrorsAsMessages, AdministratorsOnly, admin.ModelAdmin):
    form = NaturalPersonForm
    list_filter = ["assurance_level", "region"]
    search_fields = ["name"]
    autocomplete_fields = ["region"]
    inlines = [AgentInline]

    @staticmethod
    def _id_column(request) -> str:
        # one ModelAdmin serves every request: who sees what is decided per request, never stored
        return "id_full" if request.user.is_superuser else "id_masked"

    def get_list_display(self, request):
        return ["name", self._id_column(request), "masked_phone", "region", "user", "assurance_level"]

    def get_readonly_fields(self, request, obj=None):
        return [self._id_column(request), "user", "created_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "id_number_input", "phone", "address", "region", "assurance_level"]
        return ["name", self._id_column(request), "phone", "address", "region", "assurance_level", "user", "created_at"]

    @admin.display(description=_("公民身份号码"))
    def id_masked(self, obj: NaturalPerson) -> str:
        return obj.masked_id

    @admin.display(description=_("公民身份号码"))
    def id_full(self, obj: NaturalPerson) -> str:
        return obj.id_number

    @admin.display(description=_("手机号码"))
    def masked_phone(self, obj: NaturalPerson) -> str:
        return mask_phone(obj.phone) if obj.phone else ""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("region", "user")

    def get_search_results(self, request, queryset, search_term):
        """A complete ID number finds its person through the blind index; names match as usual."""
        term = normalize(search_term)
        if is_citizen_id(term):
            return queryset.filter(id_digest=blind_index(term)), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if change:
            services.update_person(
                obj,
                name=data["name"],
                phone=data.get("phone", ""),
                address=data.get("address", ""),
                region=data.get("region"),
                assurance_level=data.get("assurance_level"),
                actor=request.user,
            )
        else:
            person = services.register_person(
                name=data["name"],
                id_number=data["id_number_input"],
                phone=data.get("phone", ""),
                address=data.get("address", ""),
                region=data.get("region"),
                actor=request.user,
            )
            obj.pk = person.pk

    def save_related(self, request, form, formsets, change) -> None:
        """The inline is read-only; nothing else to save."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # cases and licences refer to the person


class LegalPersonForm(forms.ModelForm):
    class Meta:
        model = LegalPerson
        fields = ["name", "uscc", "legal_representative", "address", "region"]

    def clean_uscc(self) -> str:
        try:
            code = validate_uscc(self.cleaned_data["uscc"])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None
        if LegalPerson.objects.filter(uscc=code).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("该统一社会信用代码已登记。"))
        return code


@admin.register(LegalPerson)
class LegalPersonAdmin(ServiceErrorsAsMessages, AdministratorsOnly, admin.ModelAdmin):
    form = LegalPersonForm
    list_display = ["name", "uscc", "legal_representative", "region"]
    search_fields = ["name", "uscc"]
    list_filter = ["region"]
    autocomplete_fields = ["region"]
    fields = ["name", "uscc", "legal_representative", "address", "region", "created_at"]
    readonly_fields = ["created_at"]

    class AgentsInline(admin.TabularInline):
        model = AgentAuthorization
        fields = ["person", "valid_from", "valid_until"]
        readonly_fields = fields
        extra = 0
        can_delete = False
        verbose_name_plural = _("经办人（在“经办人授权”中授权或撤销）")

        def has_add_permission(self, request, obj=None) -> bool:
            return False

    inlines = [AgentsInline]

    def get_readonly_fields(self, request, obj=None):
        return ["uscc", "created_at"] if obj else ["created_at"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            services.update_legal_person(
                obj,
                name=obj.name,
                legal_representative=obj.legal_representative,
                address=obj.address,
                region=obj.region,
                actor=request.user,
            )
            return
        organisation = services.register_legal_person(
            name=obj.name,
            uscc=obj.uscc,
            legal_representative=obj.legal_representative,
            address=obj.address,
            region=obj.region,
            actor=request.user,
        )
        obj.pk = organisation.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AgentAuthorization)
class AgentAuthorizationAdmin(ServiceErrorsAsMessages, AdministratorsOnly, admin.ModelAdmin):
    list_display = ["person", "organisation", "valid_from", "valid_until"]
    search_fields = ["person__name", "organisation__name", "organisation__uscc"]
    autocomplete_fields = ["person", "organisation"]

    def save_model(self, request, obj, form, change) -> None:
        saved = services.authorize_agent(
            person=obj.person,
            organisation=obj.organisation,
            valid_from=obj.valid_from,
            valid_until=obj.valid_until,
            actor=request.user,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        services.revoke_agent(person=obj.person, organisation=obj.organisation, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset.select_related("person", "organisation"):
            self.delete_model(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # the pair is the authorization; only its dates change
        return ["person", "organisation"] if obj else []


@admin.register(AccessAttempt)
class LoginLockoutAdmin(AdministratorsOnly, admin.ModelAdmin):
    """Failed logins by account and address (identity/lockout.py); unlocking clears them."""

    list_display = ["account", "address", "failures", "last_attempt"]
    search_fields = ["username", "ip_address"]
    actions = ["unlock"]
    list_display_links = None

    @admin.display(description=_("账号"), ordering="username")
    def account(self, obj: AccessAttempt) -> str:
        return obj.username or "—"

    @admin.display(description=_("来源地址"), ordering="ip_address")
    def address(self, obj: AccessAttempt) -> str:
        return obj.ip_address or "—"

    @admin.display(description=_("失败次数"), ordering="failures_since_start")
    def failures(self, obj: AccessAttempt) -> int:
        return obj.failures_since_start

    @admin.display(description=_("最近一次"), ordering="attempt_time")
    def last_attempt(self, obj: AccessAttempt):
        return obj.attempt_time

    @admin.action(description=_("解除锁定（清除所选的登录失败记录）"))
    def unlock(self, request, queryset) -> None:
        count = services.unlock_logins(queryset, actor=request.user)
        message = _("已清除 %(count)d 条登录失败记录，相应账号和地址可以立即登录。") % {"count": count}
        self.message_user(request, message)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # unlocking is the one way to clear, and it is audited
        return actions

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
