"""Every change of a case happens in this package: one function per use case, the explicit state machine.

States (``Case.status``) and the functions that move between them::

    (none) ─save_draft→ draft ─submit_case→ submitted          start_window_case (clerk) → submitted
    draft ─save_draft / remove_draft_material→ draft ─delete_draft→ (none)
    submitted ─accept_case / deem_accepted→ accepted  ─refuse_case→ refused
    submitted | accepted | in_review ─request_correction→ correction_requested ─resubmit_correction→ back
    accepted ─claim_task→ in_review ─pass_task / return_task→ in_review … ─decide→ approved | denied
    accepted | in_review ─start_special_procedure→ suspended ─end_special_procedure→ back
    approved | denied ─complete_case→ completed ─deliver→ delivered
    submitted … suspended ─withdraw→ withdrawn

One module per concept:

- ``submission``  drafts, online submission, window intake (综窗), case numbers, idempotent retries
- ``materials``   uploads checked by content, stored materials, offers of material sources, the form
- ``intake``      acceptance (受理, also deemed), refusal, one-time correction (补正) and resubmission
- ``review``      the plan of steps (并联审批), claiming, passing and returning tasks, the decision
- ``time_limits`` special procedures, extensions, due-date recomputation, one case's warning
- ``sweep``       the periodic warning sweep, set-based, with one digest per staff member
- ``fees``        payment orders, payments, the provider's callback
- ``delivery``    completion (办结), delivery (送达), withdrawal (撤回)
- ``access``      views of unmasked personal data (查看完整信息) and downloads, logged on the chain
- ``_base``       private helpers shared by the others: locking, state and role checks, recording,
                  notifying the applicant

Callers import the public names from ``yiwang.cases.services`` (listed in ``__all__``); the modules of
the package import each other's names directly, never through this ``__init__``.

Contract of every public function here:
- permission first: staff act only on cases of their department (or of a task of their department),
  window clerks also on the window cases they took in, applicants only on their own cases (incl.
  organisations they act for). A case the user may not see → ``NotFound``; a case they see but may not
  act on → ``Forbidden``.
- one transaction; the case row is locked (``select_for_update``) before its state is read, so that of
  two people acting at once exactly one succeeds and the other gets ``Conflict`` (HTTP 409) naming the
  state the case is now in.
- an invalid transition → ``Conflict`` with a Chinese message; bad input → ``InvalidInput`` naming the
  field (``errors`` maps form field names and ``material_<requirement id>`` to messages).
- each appends one audit event to the case's hash chain: action, actor, role, ``data`` with ``before``
  / ``after`` status, ``department`` (name, shown in timelines) and ``note`` (text for the applicant).
- the applicant is notified (``yiwang.core.notify``, sent on commit) on acceptance, refusal, correction
  request, special procedure, decision, completion and delivery; ``case_decided`` is sent once per
  decision on commit.
- files (uploads, generated PDFs) go through Django's storage; if the service fails, the files it
  wrote are deleted and no row remains.
- time comes from ``django.utils.timezone.now()`` (the demo back-dates by setting it, see demo.py).
"""

from .access import record_download, view_personal_data
from .delivery import complete_case, deliver, withdraw
from .fees import create_payment_order, handle_payment_callback, simulate_payment, start_payment
from .intake import (
    accept_case,
    deem_accepted,
    deem_overdue_acceptances,
    refuse_case,
    request_correction,
    resubmit_correction,
)
from .materials import (
    CONTENT_TYPES,
    FORMAT_NAMES,
    CheckedUpload,
    allowed_formats,
    check_upload,
    current_materials,
    free_materials,
    sniff_format,
    validate_form,
)
from .review import StepStage, claim_task, decide, pass_task, plan, return_task
from .submission import (
    acting_organisation,
    allocate_number,
    delete_draft,
    is_replay,
    register_person,
    remove_draft_material,
    save_draft,
    start_window_case,
    submit_case,
)
from .sweep import refresh_warnings, responsible_staff_of
from .time_limits import (
    LEVEL_RANK,
    approve_extension,
    end_special_procedure,
    recompute_due_dates,
    request_extension,
    responsible_staff,
    start_special_procedure,
)

__all__ = [
    "record_download",
    "view_personal_data",
    # submission
    "acting_organisation",
    "allocate_number",
    "delete_draft",
    "is_replay",
    "register_person",
    "remove_draft_material",
    "save_draft",
    "start_window_case",
    "submit_case",
    # materials
    "CONTENT_TYPES",
    "FORMAT_NAMES",
    "CheckedUpload",
    "allowed_formats",
    "check_upload",
    "current_materials",
    "free_materials",
    "sniff_format",
    "validate_form",
    # intake
    "accept_case",
    "deem_accepted",
    "deem_overdue_acceptances",
    "refuse_case",
    "request_correction",
    "resubmit_correction",
    # review
    "StepStage",
    "claim_task",
    "decide",
    "pass_task",
    "plan",
    "return_task",
    # time limits
    "LEVEL_RANK",
    "approve_extension",
    "end_special_procedure",
    "recompute_due_dates",
    "refresh_warnings",
    "request_extension",
    "responsible_staff",
    "responsible_staff_of",
    "start_special_procedure",
    # fees
    "create_payment_order",
    "handle_payment_callback",
    "simulate_payment",
    "start_payment",
    # delivery
    "complete_case",
    "deliver",
    "withdraw",
]
