"""Background jobs of the core, run by `yiwang worker` (or the worker inside `yiwang serve`)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import seal_pending_events


# every minute: events newer than the last checkpoint are protected by their chains only (a deleted
# chain tail is then seen by the rows' cross-check, not the checkpoint); a minute bounds that window.
# An idle minute costs one query.
@db_periodic_task(crontab(minute="*"))
def audit_checkpoint() -> int:
    """Every minute: seal the new audit events into a signed checkpoint. Returns the events sealed."""
    return sum(cp.event_count for cp in seal_pending_events())
