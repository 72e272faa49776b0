"""Dashboard figures kept for a few minutes, per viewer's organisation and range (issue 14).

A funder's figures for a year of every provider cost hundreds of milliseconds of SQL; sixteen
people of one funder opening the dashboard at once would queue for seconds. The figures are
therefore worked out once per (who is looking: leader's organisation or funder, range, site,
parts, local day, suppression minimum) and kept for ``DASHBOARD_KEEP_SECONDS`` (default 300);
every page, printable report, CSV and API answer in that time shows the same cells, with the time
they were worked out. 0 keeps nothing (the test suite's default).

The key always holds the viewer's organisation, so a view never receives figures of another
organisation; the store is per process (each gunicorn worker works a range out once), bounded
in size, oldest dropped first.
"""

from __future__ import annotations

from flask import current_app

from portal.keeping import Kept, KeptFigures

__all__ = ["EXTENSION", "Kept", "KeptFigures", "store"]

EXTENSION = "fairshift.kept_figures"


def store() -> KeptFigures:
    """This application's store, made on first use from its configuration."""
    extensions = current_app.extensions
    kept = extensions.get(EXTENSION)
    if kept is None:
        kept = extensions.setdefault(
            EXTENSION, KeptFigures(int(current_app.config.get("DASHBOARD_KEEP_SECONDS", 0)))
        )
    return kept
