"""Header links for the signed-in user: only the links that exist and that the user may use."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from yiwang.identity.models import StaffRole

# (url name, label, who sees it: "citizen" | "clerk" | "staff" | "supervisor" | "admin")
LINKS = [
    ("portal:my_cases", _("我的办件"), "citizen"),
    ("portal:my_licences", _("我的证照"), "citizen"),
    ("portal:window_desk", _("综合窗口"), "clerk"),
    ("portal:workbench", _("工作台"), "staff"),
    ("portal:supervision", _("效能监督"), "supervisor"),
    ("admin:index", _("管理后台"), "admin"),
]


def portal_links(request) -> dict:
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"portal_links": []}
    roles = set(user.staff_roles.values_list("role", flat=True))
    is_staff_member = bool(roles)
    links = []
    for name, label, audience in LINKS:
        if audience == "clerk" and StaffRole.Role.WINDOW_CLERK not in roles:
            continue
        if audience == "supervisor" and StaffRole.Role.SUPERVISOR not in roles:
            continue
        if audience == "staff" and not is_staff_member:
            continue
        if audience == "admin" and not user.is_staff:
            continue
        if audience == "citizen" and is_staff_member:
            continue
        try:
            links.append({"url": reverse(name), "label": label})
        except NoReverseMatch:
            continue
    return {"portal_links": links}
