from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from yiwang.portal.forms import AdminLoginForm

admin.site.site_header = "一网 · 政务服务平台管理"
admin.site.site_title = "一网管理后台"
admin.site.index_title = "管理首页"
admin.site.login_form = AdminLoginForm  # says when too many failures locked the account

# Chinese pages in the portal's style (JSON under /api/); Django uses them with DEBUG=0
handler400 = "yiwang.portal.views.errors.bad_request"
handler403 = "yiwang.portal.views.errors.permission_denied"
handler404 = "yiwang.portal.views.errors.page_not_found"
handler500 = "yiwang.portal.views.errors.server_error"


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page names no icon (the admin, PDFs): the vendored one."""
    return redirect(static("favicon.ico"), permanent=True)


# No route serves MEDIA_ROOT, not even with DEBUG=1: uploaded materials, receipts and licence files
# are handed out only by the download views that check who asks.
urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("yiwang.api.urls")),
    path("", include("yiwang.portal.urls")),
]
