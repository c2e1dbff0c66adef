"""Times shown to people: stored in UTC, shown in the platform's time zone (Asia/Shanghai), so that a
signing time never sits in UTC next to a local date (a licence signed at 17:30 UTC is signed on the
next day in China)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

SHOWN = "%Y-%m-%d %H:%M:%S"


def local_text(value: dt.datetime | None, fmt: str = SHOWN) -> str:
    """``value`` in local time as text ("" for None)."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime(fmt)


def local_iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the local offset (2026-03-02T01:30:00+08:00), for API fields meant for people."""
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()
