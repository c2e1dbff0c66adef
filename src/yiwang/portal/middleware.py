"""Chinese first: the interface is in Chinese unless the visitor picks English in the page header.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a clerk's English-language
browser would get an English portal. The language cookie set by the header switch is the only choice
that counts; the API follows the same rule.
"""

from django.middleware.locale import LocaleMiddleware


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
