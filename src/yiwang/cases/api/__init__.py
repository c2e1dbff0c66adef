"""REST endpoints of the cases app (mounted under /api/). Thin: HTTP → selector/service → HTTP.

Business errors become 4xx in ``yiwang.api.errors`` (invalid transition → 409 with a Chinese
message). A case is always looked up with the caller's rights (``selectors.case_for_user``): another
person's case number answers 404, exactly like a number that does not exist.

One module per audience: ``applicant`` (my cases, drafts, offers, downloads, payment), ``window``
(综窗 intake), ``staff`` (transitions, queues, extensions, supervision), ``public`` (progress query, payment
callback); ``_shared`` holds the serializers and helpers they share. The URL patterns are listed
here, in one place, because their order matters: the fixed paths come before ``cases/<number>/``.
"""

from django.urls import path

from ._shared import TAG, action_view
from .applicant import (
    APPLICANT_ACTIONS,
    CaseDetail,
    CaseListCreate,
    DevPay,
    DocumentDownload,
    DraftDetail,
    DraftListCreate,
    DraftMaterial,
    DraftSubmit,
    MaterialDownload,
    Offers,
    Pay,
    Prefill,
)
from .public import PaymentCallback, Progress, ProgressThrottle
from .staff import ACTIONS, AcceptanceQueue, ExtensionDecision, SupervisedCases, WorkQueue
from .window import WindowCaseCreate

__all__ = ["ProgressThrottle", "urlpatterns"]

urlpatterns = [
    path("cases/", CaseListCreate.as_view(), name="cases-list"),
    path("cases/drafts/", DraftListCreate.as_view(), name="cases-drafts"),
    path("cases/drafts/<int:draft_id>/", DraftDetail.as_view(), name="cases-draft"),
    path("cases/drafts/<int:draft_id>/submit/", DraftSubmit.as_view(), name="cases-draft-submit"),
    path(
        "cases/drafts/<int:draft_id>/materials/<int:requirement_id>/",
        DraftMaterial.as_view(),
        name="cases-draft-material",
    ),
    path("cases/offers/", Offers.as_view(), name="cases-offers"),
    path("cases/prefill/", Prefill.as_view(), name="cases-prefill"),
    path("cases/queue/", WorkQueue.as_view(), name="cases-queue"),
    path("cases/acceptance-queue/", AcceptanceQueue.as_view(), name="cases-acceptance-queue"),
    path("supervision/cases/", SupervisedCases.as_view(), name="cases-supervision"),
    path("window/cases/", WindowCaseCreate.as_view(), name="cases-window"),
    path("progress/", Progress.as_view(), name="cases-progress"),
    path("payments/callback/<str:provider>/", PaymentCallback.as_view(), name="cases-payment-callback"),
    path("payments/dev/<str:order_number>/pay/", DevPay.as_view(), name="cases-dev-pay"),
    path("cases/<str:number>/", CaseDetail.as_view(), name="cases-detail"),
    path("cases/<str:number>/documents/<int:document_id>/", DocumentDownload.as_view(), name="cases-document"),
    path("cases/<str:number>/materials/<int:material_id>/", MaterialDownload.as_view(), name="cases-material"),
    path("cases/<str:number>/pay/", Pay.as_view(), name="cases-pay"),
    path(
        "cases/<str:number>/extensions/<int:extension_id>/decide/",
        ExtensionDecision.as_view(),
        name="cases-extension-decide",
    ),
]
for _name, _summary, _input, _act in ACTIONS:
    urlpatterns.append(
        path(
            f"cases/<str:number>/{_name}/",
            action_view(_name, _summary, _input, _act).as_view(),
            name=f"cases-{_name.replace('/', '-')}",
        )
    )
for _name, _summary, _input, _act, _doc in APPLICANT_ACTIONS:
    urlpatterns.append(
        path(
            f"cases/<str:number>/{_name}/",
            action_view(_name, _summary, _input, _act, tag=TAG, doc=_doc).as_view(),
            name=f"cases-{_name}",
        )
    )
