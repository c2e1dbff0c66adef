"""Background jobs of the core, run by `yiwang worker` (or the worker inside `yiwang serve`)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import seal_pending_events


@db_periodic_task(crontab(minute="*/10"))
def audit_checkpoint() -> int:
    """Every ten minutes: seal the new audit events into a signed checkpoint. Returns the events sealed."""
    return sum(cp.event_count for cp in seal_pending_events())
