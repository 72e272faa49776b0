"""Calendar files (.ics) for bookings: an invitation (METHOD:REQUEST) or its cancellation.

Times are written as UTC instants (DTSTART:20260310T150000Z): every calendar shows them on its own
wall clock, so the file is right whatever zone the phone is in, with no VTIMEZONE to get wrong.
The summary says "Counselling session" and nothing of why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parseaddr

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from portal.models import Booking, CounselingSlot
from portal.timeutil import utcnow

SUMMARY = "Counselling session"
PRODID = "-//FairShift//Counselling bookings//EN"


def booking_uid(booking: Booking) -> str:
    """The event's UID: stable for a booking, so a cancellation replaces its invitation."""
    return f"booking-{booking.id}@fairshift"


def where(slot: CounselingSlot) -> str:
    """Where the session happens, by mode: the place, the video link, or a phone call."""
    if slot.mode == "in_person":
        return slot.location or "In person"
    if slot.mode == "video":
        return slot.video_link or "Video call"
    return "Phone call"


def booking_ics(
    booking: Booking,
    method: str = "REQUEST",
    link: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """One VEVENT for the booking's slot; METHOD:CANCEL (same UID) once it is cancelled."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unknown method {method!r}")
    slot = booking.slot
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)

    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", (now or utcnow()).astimezone(UTC))
    event.add("dtstart", slot.start_at.astimezone(UTC))
    event.add("dtend", slot.end_at.astimezone(UTC))
    event.add("summary", SUMMARY)
    event.add("location", where(slot))
    event.add("sequence", 1 if method == "CANCEL" else 0)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    details = [f"Mode: {slot.mode_label}", f"Where: {where(slot)}"]
    if link:
        details.append(f"Details: {link}")
        event.add("url", link)
    event.add("description", "\n".join(details))

    # RFC 5546: an invitation names its organiser; the portal sends it on the counsellor's behalf.
    _name, address = parseaddr(current_app.config["MAIL_FROM"])
    organizer = vCalAddress(f"mailto:{address or 'no-reply@fairshift.invalid'}")
    organizer.params["cn"] = vText("FairShift")
    event.add("organizer", organizer)
    if booking.worker is not None and booking.worker.email:
        attendee = vCalAddress(f"mailto:{booking.worker.email}")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    return cal.to_ical()
