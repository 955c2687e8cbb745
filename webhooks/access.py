"""Which events a subscription may receive: the API's disclosure rule
(``api.access``) applied to events.

A subscription made with an admin or facility key receives every event it
subscribes to. One made with an agency key receives:

- events whose ``agency`` is that agency (its dedicated spaces' states, its
  zones' thresholds, its bookings' no-shows, its alerts and statements);
- ``zone.threshold`` of a shared zone when the live page would show that
  zone's count to the agency (``api.access.visible_group``: the zone has at
  least ``min_group_spaces`` spaces, so no one is singled out);
- ``summaries.day_closed``, which tells only that a site's day is summarised;

and nothing else: not another agency's events, not the states of single
shared spaces (the live page does not show them one by one to an agency), not
site-wide sensor alerts or charges (they name agents and other agencies).
"""

from __future__ import annotations

from api.access import visible_group
from api.auth import Principal
from core.registry import Registry
from webhooks.events import SUMMARIES_DAY_CLOSED, ZONE_THRESHOLD, Event


def agency_principal(agency: str) -> Principal:
    return Principal(key_id="-", name="webhook", role=f"agency:{agency}")


def may_receive(event: Event, *, agency: str | None, registry: Registry, min_group: int) -> bool:
    """Whether a subscription owned by ``agency`` (None: not an agency's) may receive ``event``."""
    if agency is None or event.agency == agency:
        return True
    if event.agency is not None:
        return False
    if event.type == SUMMARIES_DAY_CLOSED:
        return True
    if event.type == ZONE_THRESHOLD:
        site = registry.get(event.site)
        zone_id = str(event.data.get("zone", ""))
        if site is None or zone_id not in {z.id for z in site.zones}:
            return False
        if site.zone(zone_id).agency is not None:
            return False
        size = sum(1 for s in site.spaces if s.zone == zone_id)
        return visible_group(
            site=site,
            principal=agency_principal(agency),
            by="zone",
            group=zone_id,
            size=size,
            min_group=min_group,
        )
    return False
