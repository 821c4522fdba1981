"""Times as staff read them: in the association's time zone (Asia/Shanghai unless the campaign says otherwise),
never in UTC, which is only how stamps are stored."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The association's time zone when the campaign file names none (the seeds are all Chinese associations).
DEFAULT_ZONE = "Asia/Shanghai"


def zone_of(name: str | None) -> ZoneInfo | None:
    """Given a time zone name (Asia/Shanghai) or None, return its ZoneInfo (the default for None), or None when
    no such zone exists."""
    try:
        return ZoneInfo(str(name or DEFAULT_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def in_zone(stamp: str | None, zone: ZoneInfo) -> str | None:
    """Given a stored stamp (ISO, UTC or with its offset; a stamp without one is UTC), return the same instant
    as ISO text in `zone` (2017-06-18T09:30:00+08:00); text that is not a stamp comes back as it was."""
    if not stamp or len(stamp) <= 10:  # nothing, or a day (2017-06-18): a date is no instant to convert
        return stamp
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone).isoformat()


def shown_time(stamp: str | None, zone: ZoneInfo) -> str:
    """Given a stored stamp and the association's zone, return it as staff read it: 2017-06-18 09:30."""
    local = in_zone(stamp, zone)
    return local.replace("T", " ")[:16] if local else ""
