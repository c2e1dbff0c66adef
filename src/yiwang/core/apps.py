from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yiwang.core"
    label = "core"
    verbose_name = _("平台基础")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from .logs import log_refused_login

        user_login_failed.connect(log_refused_login, dispatch_uid="yiwang.security.login_failed")
