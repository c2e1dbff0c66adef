"""Portal middleware.

Chinese first: the interface is in Chinese unless the visitor picks English in the page header.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a clerk's English-language
browser would get an English portal. The language cookie set by the header switch is the only choice
that counts; the API follows the same rule.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware

from yiwang.portal.views.errors import page_not_found, request_too_large


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


class RequestSizeMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 (JSON under /api/, the Chinese page elsewhere).

    Django raises RequestDataTooBig wherever the body is first read — the CSRF check, a view, DRF's
    parsing — and answers a 400 (an HTML debug page with DEBUG=1). A non-multipart body is refused here
    by its Content-Length, before anything reads it, by the same rule as ``HttpRequest.body``; a
    multipart body streams (its files are checked by the services) and only its plain fields count, so
    its RequestDataTooBig is caught when a view raises it (and by handler400 / the API's handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        multipart = request.content_type == "multipart/form-data"
        if limit is not None and not multipart and _content_length(request) > limit:
            return request_too_large(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return request_too_large(request) if isinstance(exception, RequestDataTooBig) else None


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
