"""Log in (phone number, ID number or staff user name + password), log out, and citizen registration."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.errors import YiwangError
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


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", register, name="register"),
]
