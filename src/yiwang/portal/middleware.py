"""Portal middleware.

Chinese first: the interface is in Chinese unless the visitor picks English in the page header.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a clerk's English-language
browser would get an English portal. The language cookie set by the header switch is the only choice
that counts; the API follows the same rule.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware

from yiwang.portal.views.errors import page_not_found


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)


class PortalErrorPageMiddleware:
    """An Http404 raised by a portal view (an unknown case number) answers the portal's 404 page with
    DEBUG=1 too; Django would show its debug page listing every URL pattern. With DEBUG=0 the page is
    the same (handler404)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        match = getattr(request, "resolver_match", None)
        if isinstance(exception, Http404) and match is not None and match.namespace == "portal":
            return page_not_found(request, exception)
        return None
