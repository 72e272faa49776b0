"""Phone numbers people type: checked, stored as E.164 (+13145550142), shown as (314) 555-0142."""

from __future__ import annotations

import re

PHONE_MAX = 30  # what the form takes as typed; the stored form is at most 16 characters
PHONE_INVALID = "Enter a phone number like (314) 555-0142, or leave it blank."
_SEPARATORS = re.compile(r"[\s().\-/]")


class PhoneError(ValueError):
    """A number that cannot be a phone number (the message says how to write one)."""


def normalise(text: str | None) -> str | None:
    """None for a blank entry; the E.164 form of a valid number; PhoneError otherwise.

    US and Canadian numbers (10 digits, or 11 starting with 1) need an area code and exchange
    that do not start with 0 or 1; other countries are written with + and 8 to 15 digits.
    """
    typed = (text or "").strip()
    if not typed:
        return None
    if len(typed) > PHONE_MAX:
        raise PhoneError(PHONE_INVALID)
    compact = _SEPARATORS.sub("", typed)
    international = compact.startswith("+")
    digits = compact[1:] if international else compact
    if not digits.isdigit() or not digits.isascii():
        raise PhoneError(PHONE_INVALID)
    if international and not digits.startswith("1"):
        if not 8 <= len(digits) <= 15:
            raise PhoneError(PHONE_INVALID)
        return "+" + digits
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        raise PhoneError(PHONE_INVALID)
    return "+1" + digits


def display(number: str | None) -> str:
    """A stored number as people read it: (314) 555-0142 for North America, else as stored."""
    if not number:
        return ""
    if number.startswith("+1") and len(number) == 12:
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number
