"""Portal pages for case handling (办件). Thin: they read with ``yiwang.cases.selectors``, change state only
through ``yiwang.cases.services``, and show a business error's Chinese message (on its field when it
names one). Which buttons appear comes from ``selectors.available_actions``; the services still decide.

One module per audience:

- ``applicant``: apply online from a guide (form generated from the item version, uploads or licence
  reuse, drafts), the confirmation with the case number, 我的办件, a case page (timeline, corrections,
  payment, documents, withdrawal);
- ``public``: the progress query by case number + the last four characters of the applicant's ID number;
- ``window``: window clerks (综窗) find or register the applicant, take in any item, print the receipt;
- ``staff``: the departments' workbench queues and the staff case page with every action of the state
  machine;
- ``supervision``: the supervisors' read-only list of red and yellow cases of their regions;
- ``_shared``: presentation helpers used by several of them.
"""

from django.urls import path

from .applicant import (
    apply,
    case_detail,
    case_document,
    case_material,
    case_pay,
    case_resubmit,
    case_submitted,
    case_withdraw,
    draft,
    draft_remove_material,
    my_cases,
)
from .public import progress
from .staff import staff_action, staff_case, staff_case_full, workbench, workbench_open
from .supervision import supervision_page
from .window import window_apply, window_desk

__all__ = ["urlpatterns"]

urlpatterns = [
    path("items/<str:code>/apply/", apply, name="apply"),
    path("my/drafts/<int:pk>/", draft, name="draft"),
    path(
        "my/drafts/<int:pk>/materials/<int:requirement>/remove/",
        draft_remove_material,
        name="draft_remove_material",
    ),
    path("my/cases/", my_cases, name="my_cases"),
    path("my/cases/<str:ref>/", case_detail, name="case_detail"),
    path("my/cases/<str:ref>/submitted/", case_submitted, name="case_submitted"),
    path("my/cases/<str:ref>/resubmit/", case_resubmit, name="case_resubmit"),
    path("my/cases/<str:ref>/withdraw/", case_withdraw, name="case_withdraw"),
    path("my/cases/<str:ref>/pay/<str:order>/", case_pay, name="case_pay"),
    path("cases/<str:ref>/documents/<int:document_id>/", case_document, name="case_document"),
    path("cases/<str:ref>/materials/<int:material_id>/", case_material, name="case_material"),
    path("progress/", progress, name="progress"),
    path("window/", window_desk, name="window_desk"),
    path("window/items/<str:code>/", window_apply, name="window_apply"),
    path("workbench/", workbench, name="workbench"),
    path("supervision/", supervision_page, name="supervision"),
    path("workbench/open/", workbench_open, name="workbench_open"),
    path("workbench/cases/<str:ref>/", staff_case, name="staff_case"),
    path("workbench/cases/<str:ref>/full-info/", staff_case_full, name="staff_case_full"),
    path("workbench/cases/<str:ref>/<str:action>/", staff_action, name="staff_action"),
]
