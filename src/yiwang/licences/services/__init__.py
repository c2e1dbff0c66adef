"""Every change to the licence library, one module per concept: ``issuing`` (the licence catalogue,
serials, sealing, issuing by a department and 同步签发), ``lifecycle`` (change, renew, suspend,
resume, revoke, expire, remind), ``reuse`` (用证: the holder's consent), ``holders`` (who holds a
licence, whose staff issued it, whom to notify), ``_base`` (the row lock, the reason check, the status
as of today).

Each public function runs in one transaction, locks the licence row it changes
(``select_for_update``) before it checks the state, and appends the licence's audit event. A change
or a renewal never edits a sealed version: it seals a new version and marks the old one superseded.
Callers import the public names from ``yiwang.licences.services``.
"""

from ._base import MAX_REASON, effective_status
from .holders import Holder, holder_digests_of, holder_recipients, is_holder, issuer_staff_departments
from .issuing import (
    add_years,
    allocate_serials,
    build_licence,
    clean_data,
    issue_for_case,
    issue_licence,
    licence_terms,
    make_number,
    next_free_serial,
    save_licence_type,
    seal,
    sealer_for,
)
from .lifecycle import (
    ACTION_LABELS,
    REMIND_DAYS,
    change_licence,
    expire_due_licences,
    remind_expiring_licences,
    renew_licence,
    resume_licence,
    revoke_licence,
    suspend_licence,
)
from .reuse import licence_summary, record_use

__all__ = [
    "ACTION_LABELS",
    "Holder",
    "MAX_REASON",
    "REMIND_DAYS",
    "add_years",
    "allocate_serials",
    "build_licence",
    "change_licence",
    "clean_data",
    "effective_status",
    "expire_due_licences",
    "holder_digests_of",
    "holder_recipients",
    "is_holder",
    "issue_for_case",
    "issue_licence",
    "issuer_staff_departments",
    "licence_summary",
    "licence_terms",
    "make_number",
    "next_free_serial",
    "record_use",
    "remind_expiring_licences",
    "renew_licence",
    "resume_licence",
    "revoke_licence",
    "save_licence_type",
    "seal",
    "sealer_for",
    "suspend_licence",
]
