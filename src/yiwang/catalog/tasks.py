"""Background jobs of the catalog, run by `yiwang worker` (or the worker inside `yiwang serve`)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import sync_popularity


@db_periodic_task(crontab(minute="*/5"))
def search_popularity() -> int:
    """Every five minutes: the guide views counted since the last run reach the search ranking."""
    return sync_popularity()
