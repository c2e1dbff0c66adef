"""Log in (phone number, ID number or staff user name + password), log out, and citizen registration."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from rest_framework.throttling import SimpleRateThrottle

from yiwang.core.errors import YiwangError
from yiwang.core.http import client_ip
from yiwang.core.ids import mask_phone
from yiwang.identity import selectors, services
from yiwang.identity.models import StaffRole
from yiwang.portal.forms import LoginForm


class RegisterForm(forms.Form):
    """Only the shape of the input here; the rules (ID number, phone, duplicates, password strength)
    are the service's, and its errors are shown on their fields."""

    name = forms.CharField(label=gettext_lazy("姓名"), max_length=60, required=False)
    id_number = forms.CharField(
        label=gettext_lazy("公民身份号码"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("18位，最后一位可以是X。"),
    )
    phone = forms.CharField(
        label=gettext_lazy("手机号码"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("登录时可使用手机号码或身份证号。"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    password = forms.CharField(
        label=gettext_lazy("密码"),
        required=False,
        strip=False,
        help_text=gettext_lazy("至少8位，不能全是数字，不要使用常见密码。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("再次输入密码"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:home")
    form = RegisterForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.register_citizen(
                name=data["name"], id_number=data["id_number"], phone=data["phone"], password=data["password"]
            )
        except YiwangError as exc:
            fields = exc.errors if isinstance(exc.errors, dict) else {exc.field or "__all__": exc.message}
            for field, message in fields.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            login(request, user, backend="yiwang.identity.backends.PhoneOrIdNumberBackend")
            messages.success(request, _("注册成功，欢迎使用一网通办。"))
            if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
                return redirect(next_url)
            return redirect("portal:home")
    return render(request, "portal/register.html", {"form": form, "next": next_url})


# Where each role starts its day, first match wins: the desk work before the administration.
LANDING = [
    ({StaffRole.Role.WINDOW_CLERK}, "portal:window_desk"),
    ({StaffRole.Role.HANDLER, StaffRole.Role.REVIEWER, StaffRole.Role.APPROVER}, "portal:workbench"),
    ({StaffRole.Role.SUPERVISOR}, "portal:workbench"),
    ({StaffRole.Role.ADMINISTRATOR, StaffRole.Role.CATALOG_MANAGER}, "admin:index"),
]


def landing_url(user) -> str:
    """The page a user lands on after logging in without a `next`: staff on their own page, citizens
    (and agents of organisations) on the home page."""
    roles = selectors.roles_of(user)
    for wanted, name in LANDING:
        if roles & wanted and (name != "admin:index" or user.is_staff):
            return reverse(name)
    if user.is_superuser:
        return reverse("admin:index")
    return reverse("portal:home")


class LoginView(auth_views.LoginView):
    """A safe `next` wins (Django checks the host and scheme); otherwise the role's own page."""

    template_name = "portal/login.html"
    authentication_form = LoginForm

    def get_default_redirect_url(self) -> str:
        return landing_url(self.request.user)


class PasswordResetThrottle(SimpleRateThrottle):
    """Asking for codes and trying them, per address: no SMS flood to many numbers from one place."""

    scope = "password_reset"
    rate = "20/hour"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


class ResetRequestForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("手机号码"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("注册个人账号时填写的手机号码。"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class ResetForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("短信验证码"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    password = RegisterForm.base_fields["password"]
    password2 = RegisterForm.base_fields["password2"]

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("code"):
            self.add_error("code", _("请填写短信验证码。"))
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data


def _show(form: forms.Form, exc: YiwangError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


RESET_PHONE = "password_reset_phone"


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """忘记密码, step 1: the phone number. The next page says the same whether or not it has an account."""
    form = ResetRequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and not PasswordResetThrottle().allow_request(request, None):
        form.add_error(None, _("操作过于频繁，请 1 小时后再试。"))
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            services.request_password_reset(phone=form.cleaned_data["phone"])
        except YiwangError as exc:
            _show(form, exc)
            status = exc.status
        else:
            request.session[RESET_PHONE] = services.normalize_phone(form.cleaned_data["phone"])
            return redirect("portal:password_reset_confirm")
    return render(request, "portal/password_reset.html", {"form": form, "step": 1}, status=status)


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    """忘记密码, step 2: the SMS code and the new password."""
    phone = request.session.get(RESET_PHONE)
    if not phone:
        return redirect("portal:password_reset")
    form = ResetForm(request.POST or None)
    status = 200
    if request.method == "POST" and not PasswordResetThrottle().allow_request(request, None):
        form.add_error(None, _("操作过于频繁，请 1 小时后再试。"))
        status = 429
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.reset_password(phone=phone, code=data["code"], password=data["password"])
        except YiwangError as exc:
            _show(form, exc)
            status = exc.status
        else:
            del request.session[RESET_PHONE]
            messages.success(request, _("密码已重置，请用新密码登录。"))
            return redirect("portal:login")
    minutes = settings.YIWANG_RESET_CODE_MINUTES
    context = {"form": form, "step": 2, "masked_phone": mask_phone(phone), "minutes": minutes}
    return render(request, "portal/password_reset.html", context, status=status)


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("password-reset/", password_reset, name="password_reset"),
    path("password-reset/confirm/", password_reset_confirm, name="password_reset_confirm"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", register, name="register"),
]
