from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yiwang.identity.lockout import is_locked_out, lockout_message


class LockoutMessage:
    """A login refused because of too many failures says so, and how long to wait, instead of
    "wrong password" (the answer's status is 429: see portal.views.errors.locked_out)."""

    def get_invalid_login_error(self) -> ValidationError:
        if is_locked_out(self.request):
            return ValidationError(lockout_message(), code="locked_out")
        return super().get_invalid_login_error()


class AdminLoginForm(LockoutMessage, AdminAuthenticationForm):
    pass


class LoginForm(LockoutMessage, AuthenticationForm):
    username = forms.CharField(
        label=_("手机号码 / 身份证号 / 工作人员账号"),
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": _("账号或密码不正确，请重新输入。"),
        "inactive": _("该账号已停用。"),
    }
