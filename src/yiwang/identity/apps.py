import axes.apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "yiwang.identity"
    label = "identity"
    verbose_name = _("身份与组织")


class AxesConfig(axes.apps.AppConfig):
    """django-axes (login lock-out, identity/lockout.py) under a Chinese name in the admin."""

    verbose_name = _("登录锁定")
