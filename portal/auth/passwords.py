"""The password rules, after NIST SP 800-63B (5.1.1.2): long enough, and not a guess attackers
try first.

A password must have 12 to 128 characters. It is refused when it is one of the 10,000 most
common passwords (a list shipped in ``data/``, see its SOURCE.md; no network call), such a
password with only digits or symbols added around it ("Password2026!"), one character group
repeated or a run along the keyboard or alphabet, or when it holds the person's e-mail address
(its local part, or a piece of it of four or more characters) or the site's name. Letter case
never matters. There are no composition rules (a digit, a capital...): NIST advises against them.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_LIST = Path(__file__).parent / "data" / "common-passwords.txt"
SITE_WORDS = ("fairshift",)
# Runs a person types without thinking: digits, the alphabet, keyboard rows (both directions).
_FORWARD = ("0123456789" * 3, "abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiopasdfghjklzxcvbnm" * 2)
_RUNS: tuple[str, ...] = _FORWARD + tuple(run[::-1] for run in _FORWARD)
_AROUND = re.compile(r"^[\W\d_]+|[\W\d_]+$")  # digits, symbols and spaces at either end
_EMAIL_PIECE_MIN = 4

TOO_SHORT = f"Use at least {MIN_LENGTH} characters."
TOO_LONG = f"Use at most {MAX_LENGTH} characters."
COMMON = (
    "This password is on a list of common passwords that attackers try first. Choose another."
)
COMMON_WITH_EXTRAS = (
    "This is a common password with numbers or symbols added; attackers try those too. "
    "Choose another."
)
PREDICTABLE = (
    "This password repeats the same few characters or follows the keyboard or alphabet. "
    "Choose something less predictable."
)
HAS_EMAIL = "Don't use your e-mail address, or part of it, in your password."
HAS_SITE = "Don't use the name of this site in your password."
HELP = (
    f"At least {MIN_LENGTH} characters, not a common password and not your e-mail. "
    "A few unrelated words work well."
)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased; read once per process (it never changes at run time)."""
    with COMMON_LIST.open(encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def password_problems(password: str, email: str = "") -> list[str]:
    """What is wrong with a new password for the account with this e-mail ([] when it is fine)."""
    password = password or ""
    lowered = password.lower()
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(TOO_SHORT)
    elif len(password) > MAX_LENGTH:
        return [TOO_LONG]  # nothing else is checked on a value that long
    common = common_passwords()
    core = _AROUND.sub("", lowered)
    if lowered in common:
        problems.append(COMMON)
    elif core != lowered and core in common:
        problems.append(COMMON_WITH_EXTRAS)
    elif _predictable(lowered):
        problems.append(PREDICTABLE)
    if any(piece in lowered for piece in _email_pieces(email)):
        problems.append(HAS_EMAIL)
    if any(word in lowered for word in SITE_WORDS):
        problems.append(HAS_SITE)
    return problems


def _predictable(lowered: str) -> bool:
    """One group of characters repeated ("abcabcabcabc"), very few different characters, or a
    run along the digits, the alphabet or a keyboard row ("123456789012", "qwertyuiopas")."""
    if not lowered:
        return False
    if re.fullmatch(r"(.+?)\1+", lowered, flags=re.DOTALL) or len(set(lowered)) < 5:
        return True
    return any(lowered in run for run in _RUNS)


def _email_pieces(email: str) -> set[str]:
    """The e-mail's local part and its pieces split at . _ - +, those long enough to matter."""
    local = (email or "").strip().lower().partition("@")[0]
    pieces = {local, *re.split(r"[._+\-]+", local)}
    return {p for p in pieces if len(p) >= _EMAIL_PIECE_MIN}
