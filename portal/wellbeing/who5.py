"""The WHO-5 Well-Being Index: scoring and what a score suggests, in kind words.

Pure functions: no database, no Flask. SPEC §3: five items, each 0-5 over the last two weeks;
score = raw sum x 4 (0-100); a score of 50 or less, or any item at 0 or 1, suggests talking to
someone; 28 or less is a strong signal. The words offer and never alarm: no diagnosis, no
clinical terms, no "risk" (SPEC §4: care is offered, never forced).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portal.models.wellbeing import WHO5_ANSWERS, WHO5_ITEMS

ITEM_COUNT = 5
MAX_ANSWER = 5
STRONG_SIGNAL = 28  # score at or below: offer support warmly
TALK_THRESHOLD = 50  # score at or below: suggests talking to someone
LOW_ANSWER = 1  # any item at or below: suggests talking to someone

PERIOD = "Over the last two weeks"
INSTRUCTIONS = (
    "For each of the five statements, choose the answer closest to how you have been feeling "
    "over the last two weeks. There are no right or wrong answers."
)
# Answers in the order the form lists them: "At no time" (0) to "All of the time" (5).
ANSWER_CHOICES: list[tuple[int, str]] = [(v, WHO5_ANSWERS[v]) for v in range(MAX_ANSWER + 1)]
ITEMS: list[str] = list(WHO5_ITEMS)

SOURCE = (
    "The five statements are the WHO-5 Well-Being Index (World Health Organization, 1998; "
    "Psychiatric Research Unit, Mental Health Centre North Zealand). It is in the public domain "
    "and used here with attribution."
)

STRONG, TALK, WELL = "strong", "talk", "well"


@dataclass(frozen=True)
class Reading:
    """What a check-in suggests: a level, a short headline and a kind message."""

    score: int
    level: str  # STRONG, TALK or WELL
    headline: str
    message: str
    summary: str  # a few words for a table row
    low_items: tuple[int, ...] = ()  # 1-based numbers of the items answered 0 or 1

    @property
    def suggests_talking(self) -> bool:
        """True when the words suggest talking to someone (a strong signal included)."""
        return self.level in (STRONG, TALK)


def check_answers(answers: Sequence[int]) -> list[int]:
    """The five answers as ints, or ValueError if there are not five whole numbers 0-5."""
    if len(answers) != ITEM_COUNT:
        raise ValueError(f"WHO-5 has {ITEM_COUNT} items, got {len(answers)}")
    values = []
    for answer in answers:
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise ValueError(f"WHO-5 answers are whole numbers, got {answer!r}")
        if not 0 <= answer <= MAX_ANSWER:
            raise ValueError(f"WHO-5 answers are 0 to {MAX_ANSWER}, got {answer}")
        values.append(answer)
    return values


def score(answers: Sequence[int]) -> int:
    """The WHO-5 score: the raw sum of the five answers times 4, from 0 to 100."""
    return sum(check_answers(answers)) * 4


def reading(answers: Sequence[int]) -> Reading:
    """What these answers suggest, in words meant for the person who gave them."""
    value = score(answers)
    low = tuple(i for i, a in enumerate(answers, start=1) if a <= LOW_ANSWER)
    if value <= STRONG_SIGNAL:
        return Reading(
            value,
            STRONG,
            "The last two weeks sound really hard",
            "Thank you for being honest about how you have been. Talking with a counsellor or a "
            "peer can help, and reaching out is a strong thing to do. Someone is ready to listen "
            "whenever you want it.",
            "A hard stretch: support is here",
            low,
        )
    if value <= TALK_THRESHOLD:
        return Reading(
            value,
            TALK,
            "It sounds like things have been heavy lately",
            "The work you do takes a lot out of anyone. It may help to talk to someone about "
            "how you have been: a counsellor, a peer, or someone you trust.",
            "Heavy lately: talking may help",
            low,
        )
    if low:
        return Reading(
            value,
            TALK,
            "Mostly okay, with something weighing on you",
            "Much of the last two weeks went alright, and part of it was hard. It may help to "
            "talk it through with someone: a counsellor, a peer, or someone you trust.",
            "Mostly okay: talking may help",
            low,
        )
    return Reading(
        value,
        WELL,
        "Thanks for checking in",
        "Your answers suggest you have been keeping well. Keep doing what helps you, and check "
        "in again whenever you like.",
        "Keeping well",
        low,
    )
