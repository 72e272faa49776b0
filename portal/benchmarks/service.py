"""Benchmark figures: reading a CSV file of them, importing it all or nothing, listing them.

The file has the columns of ``shared/data/benchmarks.csv``: a header line naming them (in any
order, any letter case), then one figure a line. Choices made here, so a reader knows them:

- A column the portal does not know is refused, not ignored: it is most often a misspelt
  header ("hourly" for "hourly_usd"), and silently dropping a column would lose data.
- A UTF-8 byte order mark, Windows line ends, blank lines, spaces around values and empty
  trailing cells (as spreadsheets write them) are tolerated. ``note`` may be empty.
- Every problem of the file is reported, as (line, column, message), before anything is written.
- Figures are history. A figure already imported (same kind, name, applies_to and
  effective_from) with the same values is left as it is, so importing a file twice changes
  nothing; with a different value, source or note it is refused: a corrected figure is imported
  with a new effective date, never written over the one pay decisions were taken against.

Services never commit; the view that called them does.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO, Any, NamedTuple
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.extensions import db
from portal.models import Benchmark, User

COLUMNS = (
    "kind",
    "name",
    "region",
    "applies_to",
    "hourly_usd",
    "effective_from",
    "source",
    "source_url",
    "note",
)
KEY = ("kind", "name", "applies_to", "effective_from")
# In the order the list page shows them, with what each kind is for.
KINDS = {
    "legal_floor": ("Legal floors", "The least the law allows; pay rates are checked against it."),
    "living_wage": ("Living wage", "What a household needs to cover its basic costs there."),
    "market": ("Market rates", "What the labour market pays for similar work."),
    "employer": ("Employer rates", "What comparable employers pay."),
    "peer": ("Peer pay", "What other violence intervention programmes pay."),
}
KIND_LIST = "legal_floor, living_wage, market, employer or peer"
HEADER = ",".join(COLUMNS)

MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
MAX_HOURLY = Decimal("500.00")
EARLIEST_DATE = date(1990, 1, 1)
YEARS_AHEAD = 10
LENGTHS = {"name": 200, "region": 120, "applies_to": 120, "source": 300, "source_url": 500}
MAX_NOTE = 1_000

MISSING = {
    "kind": f"Give the kind: {KIND_LIST}.",
    "name": "Give the figure a name.",
    "region": "Give the region the figure is for, e.g. Missouri.",
    "applies_to": "Say who the figure applies to, e.g. all workers or 1 adult 1 child.",
    "hourly_usd": "Give the hourly value in dollars, e.g. 15.00.",
    "effective_from": "Give the date the figure takes effect, as YYYY-MM-DD.",
    "source": "Give the source: who published the figure.",
    "source_url": "Give the source URL, so anyone can check the figure.",
}
# How a stored value is named when an import would change it.
CHANGED = {
    "region": "region",
    "hourly_usd": "value",
    "source": "source",
    "source_url": "source URL",
    "note": "note",
}
TOO_BIG = "The file is larger than 1 MB. Split it into smaller files."
TOO_MANY = f"The file has more than {MAX_ROWS:,} figures. Split it into smaller files."
NOT_UTF8 = 'The file is not UTF-8 text. In a spreadsheet, save it as "CSV UTF-8".'
EMPTY = f"The file is empty. Its first line must be the header: {HEADER}"
NO_HEADER = f"The first line must be the header: {HEADER}"
NO_ROWS = "The file has a header but no figures."

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Problem(NamedTuple):
    """One problem of a file: line number (None for the whole file), column ("" for none)."""

    line: int | None
    column: str
    message: str


class BenchmarkImportError(Exception):
    """A refused file: every problem found, in file order. Nothing was imported."""

    def __init__(self, problems: Iterable[Problem | tuple]):
        self.problems = sorted(
            (Problem(*p) for p in problems),
            key=lambda p: (p.line or 0, _column_order(p.column)),
        )
        super().__init__("; ".join(_problem_text(p) for p in self.problems))


@dataclass(frozen=True)
class ImportResult:
    """How many figures an import added, and how many were already there with the same values."""

    added: int
    unchanged: int


def _column_order(column: str) -> int:
    return COLUMNS.index(column) if column in COLUMNS else -1


def _problem_text(p: Problem) -> str:
    where = "file" if p.line is None else f"line {p.line}"
    return f"{where}{', ' + p.column if p.column else ''}: {p.message}"


# --- reading a file -----------------------------------------------------------------------------


def read_upload(stream: IO[bytes]) -> str:
    """An uploaded file's text: UTF-8 (a byte order mark is dropped), at most 1 MB."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise BenchmarkImportError([(None, "", TOO_BIG)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BenchmarkImportError([(None, "", NOT_UTF8)]) from None


def parse_benchmarks(text: str) -> list[dict[str, Any]]:
    """The figures of a CSV file, checked; BenchmarkImportError lists every problem.

    Each figure is a dict of the nine columns (``hourly_usd`` a Decimal of cents,
    ``effective_from`` a date, ``note`` possibly "") plus ``line``, its line in the file.
    """
    rows, problems = _parse(text)
    if problems:
        raise BenchmarkImportError(problems)
    return rows


def _parse(text: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The valid figures and the problems of a file (both, so one pass reports everything)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return [], [Problem(None, "", TOO_BIG)]
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((line, cells))
                if len(records) > MAX_ROWS + 1:
                    return [], [Problem(None, "", TOO_MANY)]
            line = reader.line_num + 1
    except csv.Error as exc:
        message = f"This line cannot be read as CSV ({exc}). Check its double quotes."
        return [], [Problem(line, "", message)]
    if not records:
        return [], [Problem(None, "", EMPTY)]

    header_line, header = records[0]
    columns, problems = _read_header(header_line, header)
    if columns is None:
        return [], problems
    if len(records) == 1:
        problems.append(Problem(None, "", NO_ROWS))

    rows: list[dict[str, Any]] = []
    seen: dict[tuple, int] = {}
    for number, cells in records[1:]:
        cells = [c.strip() for c in cells]
        while len(cells) > len(columns) and not cells[-1]:
            cells.pop()
        if len(cells) != len(columns):
            problems.append(
                Problem(
                    number,
                    "",
                    f"This line has {len(cells)} values but the header has {len(columns)}. "
                    "Put double quotes around a value that contains a comma.",
                )
            )
            continue
        raw = {name: value for name, value in zip(columns, cells, strict=True) if name}
        row, row_problems = _read_row(number, raw)
        problems.extend(row_problems)
        if all(row.get(k) is not None for k in KEY):
            key = tuple(row[k] for k in KEY)
            if key in seen:
                problems.append(
                    Problem(
                        number,
                        "",
                        "The same figure (kind, name, applies_to, effective_from) is already "
                        f"on line {seen[key]}.",
                    )
                )
                continue
            seen[key] = number
        if not row_problems and all(column in raw for column in COLUMNS):
            rows.append(row)
    return rows, problems


def _read_header(line: int, header: list[str]) -> tuple[list[str] | None, list[Problem]]:
    """The column of each position ("" for one refused), or None if there is no header at all."""
    names = [h.strip().lower() for h in header]
    if not set(names) & set(COLUMNS):
        return None, [Problem(line, "", NO_HEADER)]
    problems: list[Problem] = []
    columns: list[str] = []
    for position, name in enumerate(names, start=1):
        if not name:
            problems.append(Problem(line, "", f"Column {position} of the header has no name."))
            columns.append("")
        elif name not in COLUMNS:
            problems.append(
                Problem(
                    line, name, f'Unknown column "{name}"; the columns are {", ".join(COLUMNS)}.'
                )
            )
            columns.append("")
        elif name in columns:
            problems.append(Problem(line, name, f'The column "{name}" is in the header twice.'))
            columns.append("")
        else:
            columns.append(name)
    for name in COLUMNS:
        if name not in names:
            problems.append(Problem(line, name, f'The header has no "{name}" column.'))
    return columns, problems


def _read_row(line: int, raw: Mapping[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """One figure, typed; a value with a problem (or a column the header lacks) is None."""
    problems: list[Problem] = []

    def refuse(column: str, message: str) -> None:
        problems.append(Problem(line, column, message))

    row: dict[str, Any] = {"line": line}
    for column in COLUMNS:
        if column not in raw:
            row[column] = None
            continue
        value = raw[column]
        if column == "note":
            if len(value) > MAX_NOTE:
                refuse(column, f"Too long: at most {MAX_NOTE:,} characters.")
            row[column] = value
            continue
        if not value:
            refuse(column, MISSING[column])
            row[column] = None
            continue
        checker = _CHECKS.get(column, _text)
        try:
            row[column] = checker(column, value)
        except ValueError as exc:
            refuse(column, str(exc))
            row[column] = None
    return row, problems


def _text(column: str, value: str) -> str:
    limit = LENGTHS[column]
    if len(value) > limit:
        raise ValueError(f"Too long: at most {limit} characters.")
    return value


def _kind(_column: str, value: str) -> str:
    if value not in KINDS:
        raise ValueError(f'Unknown kind "{value}"; use {KIND_LIST}.')
    return value


def _hourly(_column: str, value: str) -> Decimal:
    text = value.removeprefix("$").strip()
    try:
        amount = Decimal(text) if _NUMBER.match(text) else None
    except InvalidOperation:
        amount = None
    if amount is None:
        raise ValueError(f'Not a number: "{value}". Write dollars and cents like 15.00.')
    if amount <= 0:
        raise ValueError("The hourly value must be more than 0.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f'Use at most 2 decimals (dollars and cents), not "{value}".')
    if amount > MAX_HOURLY:
        raise ValueError(
            f"Over ${MAX_HOURLY} an hour: is this a yearly or monthly figure? "
            "Benchmarks are hourly."
        )
    return amount.quantize(Decimal("0.01"))


def _date(_column: str, value: str) -> date:
    try:
        day = date.fromisoformat(value) if _ISO_DATE.match(value) else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f'Not a date: "{value}". Write it as YYYY-MM-DD, e.g. 2026-01-01.')
    # A rough bound against a mistyped year; the local date's year is not worth a lookup here.
    latest = date(date.today().year + YEARS_AHEAD, 12, 31)
    if not EARLIEST_DATE <= day <= latest:
        raise ValueError(f"The date must be between {EARLIEST_DATE} and {latest}.")
    return day


def _url(column: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not value.lower().startswith(
        ("http://", "https://")
    ):
        raise ValueError("The source URL must start with http:// or https://.")
    if not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("The source URL is not a web address (no site name, or a space in it).")
    return _text(column, value)


_CHECKS = {
    "kind": _kind,
    "hourly_usd": _hourly,
    "effective_from": _date,
    "source_url": _url,
}


# --- importing ----------------------------------------------------------------------------------


def import_csv(text: str, actor: User) -> ImportResult:
    """Check a whole file against itself and the figures already stored, then import it.

    One report covers every problem, those of the file and those against stored figures.
    """
    rows, problems = _parse(text)
    if problems and not rows:
        raise BenchmarkImportError(problems)
    return _import(rows, actor, problems)


def import_benchmarks(rows: Iterable[Mapping[str, Any]], actor: User) -> ImportResult:
    """Import checked figures (from ``parse_benchmarks``) all or nothing.

    A figure already stored with the same values is counted unchanged; one stored with other
    values is a problem. New figures are inserted in one statement; the queries are the same
    in number whatever the number of figures.
    """
    return _import(list(rows), actor, [])


def _import(rows: list[Mapping[str, Any]], actor: User, problems: list[Problem]) -> ImportResult:
    """Compare with stored figures (one query), then insert the new ones (one statement)."""
    problems = list(problems)
    stored = _stored(rows)
    new: list[dict[str, Any]] = []
    unchanged = 0
    for position, row in enumerate(rows, start=2):
        line = row.get("line", position)
        held = stored.get(tuple(row[k] for k in KEY))
        if held is None:
            new.append({c: row[c] if c != "note" else (row[c] or "") for c in COLUMNS})
            continue
        differences = _differences(line, row, held)
        problems.extend(differences)
        unchanged += not differences
    if problems:
        raise BenchmarkImportError(problems)
    if new:
        try:
            with db.session.begin_nested():
                db.session.execute(sa.insert(Benchmark), new)
        except IntegrityError:
            # Someone imported some of the same figures while this file was being checked.
            raise BenchmarkImportError(
                [(None, "", "Someone else imported figures at the same moment. Import again.")]
            ) from None
    current_app.logger.info(
        "Benchmark import by user %s: %s added, %s unchanged", actor.id, len(new), unchanged
    )
    audit.record("benchmarks.imported", "benchmarks", actor=actor)
    return ImportResult(added=len(new), unchanged=unchanged)


def _stored(rows: list[Mapping[str, Any]]) -> dict[tuple, Benchmark]:
    """The stored figures that share a name with the file's, by key, in one query."""
    names = sorted({row["name"] for row in rows})
    if not names:
        return {}
    found = db.session.scalars(sa.select(Benchmark).where(Benchmark.name.in_(names)))
    return {tuple(getattr(b, k) for k in KEY): b for b in found}


def _differences(line: int, row: Mapping[str, Any], held: Benchmark) -> list[Problem]:
    """What an already imported figure would change: each is refused, history stays."""
    problems = []
    for column, label in CHANGED.items():
        old = getattr(held, column)
        if old == (row[column] or ""):
            continue
        shown = f"{old:.2f}" if column == "hourly_usd" else f'"{old}"'
        problems.append(
            Problem(
                line,
                column,
                f"Already imported with a different {label}, {shown}. "
                "A corrected figure needs a new effective date.",
            )
        )
    return problems


# --- listing ------------------------------------------------------------------------------------


@dataclass
class Series:
    """The figures of one name, region and group, newest effective date first."""

    name: str
    region: str
    applies_to: str
    figures: list[Benchmark] = field(default_factory=list)
    current: Benchmark | None = None


@dataclass
class KindGroup:
    """The series of one kind of figure."""

    kind: str
    label: str
    description: str
    series: list[Series]


def figures_by_kind(today: date) -> list[KindGroup]:
    """Every stored figure, by kind (in KINDS order), then name; marks the one in force today."""
    figures = db.session.scalars(
        sa.select(Benchmark).order_by(
            Benchmark.name,
            Benchmark.region,
            Benchmark.applies_to,
            Benchmark.effective_from.desc(),
        )
    )
    series: dict[str, dict[tuple, Series]] = {kind: {} for kind in KINDS}
    for b in figures:
        by_key = series.setdefault(b.kind, {})
        one = by_key.setdefault(
            (b.name, b.region, b.applies_to), Series(b.name, b.region, b.applies_to)
        )
        one.figures.append(b)
        if one.current is None and b.effective_from <= today:
            one.current = b
    return [
        KindGroup(kind, *KINDS.get(kind, (kind, "")), list(by_key.values()))
        for kind, by_key in series.items()
    ]
