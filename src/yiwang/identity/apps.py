import axes.apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    default = True  # the app's own, not AxesConfig below
    name = "yiwang.identity"
    label = "identity"
    verbose_name = _("身份与组织")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .sessions import on_login

        user_logged_in.connect(on_login, dispatch_uid="yiwang.identity.sessions.on_login")


class AxesConfig(axes.apps.AppConfig):
    """django-axes (login lock-out, identity/lockout.py) under a Chinese name in the admin."""

    verbose_name = _("登录锁定")
