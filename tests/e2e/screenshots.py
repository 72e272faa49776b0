"""Screenshots of the main pages for the README: `.venv/bin/python -m tests.e2e.screenshots`.

Not part of the test run. Seeds the demo programme into a throw-away SQLite database (as
`make run` does, data ending now), serves it on 127.0.0.1 and saves each page at phone
(390x844) and desktop (1280x900) size into docs/screenshots/, as ``<name>-phone.png`` and
``<name>-desktop.png``. Each picture is one screen high (less when the page is shorter), so the
files stay small. Options: ``--only NAME`` (repeatable), ``--out DIR``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.e2e.server import DEMO_ACCOUNTS, launch_browser, sign_in, start_server

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}

# name, who signs in, page, what it shows (the alt text the README uses).
SHOTS = [
    ("worker-home", "worker", "/", "A worker's home: this pay period, recent shifts, care links"),
    ("new-shift", "worker", "/shifts/new", "Logging a shift on a phone"),
    ("pay", "worker", "/pay", "A worker's pay: hours, overtime and gross by week"),
    ("check-in", "worker", "/checkins/new", "The WHO-5 check-in"),
    ("safety", "worker", "/safety", "Starting a safety check-in before walking into a conflict"),
    ("on-call", "worker", "/oncall", "A worker's on-call periods, swaps and the site's rota"),
    ("training", "worker", "/training", "A worker's training: what is due and what is done"),
    ("counselling", "worker", "/counseling", "Booking a counselling session"),
    ("supervisor-review", "supervisor", "/shifts/review", "A supervisor approving shifts"),
    ("on-call-rota", "supervisor", "/oncall/rota", "A supervisor's on-call rota for a site"),
    ("safety-alarms", "supervisor", "/safety/alarms", "The supervisors' safety alarms"),
    ("hr-fair-pay", "hr", "/hr/fair-pay", "HR's fair-pay view: each worker against the target"),
    ("training-due", "hr", "/hr/training/due", "HR's list of who is due for training"),
    ("counsellor-queue", "counselor", "/support/queue", "The counsellors' support queue"),
    ("leader-dashboard", "leader", "/dashboard", "A leader's dashboard"),
    ("funder-report", "funder", "/dashboard/report", "The funder's printable programme report"),
]


def take(out: Path, only: set[str]) -> list[Path]:
    """Serve the demo site, sign in as each role in turn and save the screenshots."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="fairshift-shots-") as tmp:
        tmp_dir = Path(tmp)
        live = start_server("sqlite:///" + str(tmp_dir / "demo.db"), tmp_dir, ended_period=False)
        try:
            with sync_playwright() as playwright:
                browser = launch_browser(playwright)
                for size, viewport in SIZES.items():
                    for role in dict.fromkeys(who for _n, who, _p, _a in SHOTS):
                        shots = [s for s in SHOTS if s[1] == role and (not only or s[0] in only)]
                        if not shots:
                            continue
                        context = browser.new_context(
                            viewport=viewport,
                            device_scale_factor=1,
                            locale="en-US",
                            timezone_id="America/Chicago",
                            is_mobile=size == "phone",
                            has_touch=size == "phone",
                        )
                        page = context.new_page()
                        sign_in(page, live, DEMO_ACCOUNTS[role])
                        for name, _who, path, _alt in shots:
                            page.goto(live.url + path)
                            page.wait_for_load_state("networkidle")
                            height = page.evaluate("() => document.documentElement.scrollHeight")
                            target = out / f"{name}-{size}.png"
                            page.screenshot(
                                path=str(target),
                                clip={
                                    "x": 0,
                                    "y": 0,
                                    "width": viewport["width"],
                                    "height": min(height, viewport["height"]),
                                },
                            )
                            saved.append(target)
                            print(f"{target.relative_to(ROOT)}  {target.stat().st_size // 1024} KB")
                        context.close()
                browser.close()
        finally:
            live.stop()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="a screenshot name")
    parser.add_argument("--out", type=Path, default=OUT, help="where to save (docs/screenshots)")
    args = parser.parse_args(argv)
    unknown = set(args.only) - {name for name, *_ in SHOTS}
    if unknown:
        parser.error(f"unknown screenshot(s): {', '.join(sorted(unknown))}")
    take(args.out, set(args.only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
