"""The main menu: which links a set of roles gets, and which one is the current page.

Every signed-in page shows the menu. Working it out in the template cost a dozen role checks and
endpoint comparisons per request; here it is declared once, and the rendered menu is kept per
(roles, page, script root), of which a portal has a few hundred at most. The menu holds no
person's data, only links, so one process may keep it for everyone it serves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from flask import request, url_for
from markupsafe import Markup

_HR_FAIR_PAY = ("hr.whatif", "hr.standards_page")
_ONCALL_WORKER = ("oncall.index", "oncall.period")
_TRAINING_NOT_HR = ("training.index", "training.completion", "training.completion_csv")
_SAFETY_WORKER = ("safety.index", "safety.settings", "safety.sos")
_ADMIN_ORGS = ("admin.organisations", "admin.new_organisation", "admin.edit_organisation")


@dataclass(frozen=True)
class Item:
    """One link: its label, its endpoint, who gets it, and on which pages it is current."""

    label: str
    endpoint: str
    roles: frozenset[str] | None  # None: everyone signed in
    current: Callable[[str, str], bool]  # (endpoint, blueprint) -> is this the page's link?


def _on(*endpoints: str) -> Callable[[str, str], bool]:
    return lambda endpoint, _blueprint: endpoint in endpoints


def _in(blueprint_name: str) -> Callable[[str, str], bool]:
    return lambda _endpoint, blueprint: blueprint == blueprint_name


def _hr_fair_pay(endpoint: str, _blueprint: str) -> bool:
    return endpoint.startswith("hr.fair") or endpoint in _HR_FAIR_PAY


def _hr_pay(endpoint: str, blueprint: str) -> bool:
    return blueprint == "hr" and not _hr_fair_pay(endpoint, blueprint)


def _training_hr(endpoint: str, blueprint: str) -> bool:
    return blueprint == "training" and endpoint not in _TRAINING_NOT_HR


def _admin_people(endpoint: str, blueprint: str) -> bool:
    return blueprint == "admin" and endpoint not in ("admin.audit_log", *_ADMIN_ORGS)


def _oncall_rota(endpoint: str, blueprint: str) -> bool:
    return blueprint == "oncall" and endpoint not in _ONCALL_WORKER


def _oncall_worker(endpoint: str, _blueprint: str) -> bool:
    return endpoint in _ONCALL_WORKER


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


MENU: tuple[Item, ...] = (
    Item("Home", "main.home", None, _on("main.home")),
    # Safety first: the tool a worker may need in a hurry, and the supervisors' open alarms.
    Item("Safety", "safety.index", _roles("worker"), _on(*_SAFETY_WORKER)),
    Item("Safety alarms", "safety.alarms", _roles("supervisor"),
         _on("safety.alarms", "safety.alarm")),
    Item("My shifts", "shifts.index", _roles("worker"),
         _on("shifts.index", "shifts.new", "shifts.show", "shifts.edit")),
    Item("My pay", "pay.index", _roles("worker"), _in("pay")),
    Item("On call", "oncall.index", _roles("worker"), _oncall_worker),
    Item("Counselling", "counseling.index", _roles("worker"),
         _on("counseling.index", "counseling.booking", "counseling.reschedule")),
    Item("Wellbeing", "wellbeing.support", _roles("worker"), _in("wellbeing")),
    Item("My training", "training.index", _roles("worker"), _on("training.index")),
    Item("Support queue", "wellbeing.support_queue", _roles("counselor"),
         _on("wellbeing.support_queue")),
    Item("Shared check-ins", "wellbeing.checkins_shared", _roles("counselor"),
         _on("wellbeing.checkins_shared")),
    Item("Sessions", "counseling.sessions", _roles("counselor"), _on("counseling.sessions")),
    Item("Availability", "counseling.availability", _roles("counselor"),
         _on("counseling.availability")),
    Item("Approve shifts", "shifts.review", _roles("supervisor"), _on("shifts.review")),
    Item("On-call rota", "oncall.rota", _roles("supervisor"), _oncall_rota),
    Item("Pay & rates", "hr.index", _roles("hr"), _hr_pay),
    Item("Fair pay", "hr.fair_pay", _roles("hr"), _hr_fair_pay),
    Item("Benchmarks", "benchmarks.index", _roles("hr"), _in("benchmarks")),
    Item("Training", "training.hr_index", _roles("hr"), _training_hr),
    Item("Dashboard", "dashboard.index", _roles("leader", "funder"), _in("dashboard")),
    Item("Training completion", "training.completion", _roles("leader"),
         _on("training.completion")),
    Item("People", "admin.users", _roles("admin"), _admin_people),
    Item("Organisations", "admin.organisations", _roles("admin"), _on(*_ADMIN_ORGS)),
    Item("Audit log", "admin.audit_log", _roles("admin"), _on("admin.audit_log")),
    Item("Account", "auth.account", None, _on("auth.account", "auth.two_factor_setup")),
)  # fmt: skip


def items_for(roles: frozenset[str]) -> tuple[Item, ...]:
    """The links a person holding these roles sees, in menu order."""
    return tuple(i for i in MENU if i.roles is None or i.roles & roles)


@lru_cache(maxsize=1024)
def _render(roles: frozenset[str], endpoint: str, script_root: str) -> Markup:
    blueprint = endpoint.rpartition(".")[0]
    current = Markup(' aria-current="page"')
    link = Markup('<li><a href="{}"{}>{}</a></li>')  # format() escapes what it is given
    return Markup("\n").join(
        link.format(url_for(i.endpoint), current if i.current(endpoint, blueprint) else "", i.label)
        for i in items_for(roles)
    )


def main_menu(user) -> Markup:
    """The menu's list items for this person on this page (rendered once per role set and page).

    The script root is part of the key because url_for's links begin with it.
    """
    return _render(frozenset(user.roles), request.endpoint or "", request.script_root)
