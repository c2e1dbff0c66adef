"""Who may change the catalog: catalog managers (事项管理员), administrators, or the admin permission."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from yiwang.core.errors import Forbidden
from yiwang.identity.models import StaffRole

ROLE = StaffRole.Role.CATALOG_MANAGER.value


def can_manage_catalog(user: Any) -> bool:
    """Administrators, catalog managers (事项管理员) and staff granted the admin permission."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.has_perm("catalog.change_itemversion"):
        return True
    return user.staff_roles.filter(role__in=[ROLE, StaffRole.Role.ADMINISTRATOR]).exists()


def check_actor(actor: Any) -> None:
    """A user must be a catalog manager; ``None`` or a string names the system (commands, demo)."""
    if actor is None or isinstance(actor, str):
        return
    if not can_manage_catalog(actor):
        raise Forbidden(_("只有事项管理员可以维护事项目录。"))
