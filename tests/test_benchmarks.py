"""HR's benchmark figures: the CSV import (all or nothing, every problem listed) and the list."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal.benchmarks import service as svc
from portal.benchmarks.service import BenchmarkImportError, Problem
from portal.extensions import db
from portal.models import Benchmark, User
from tests.factories import PEOPLE, email_for

# A copy of ../shared/data/benchmarks.csv, so the suite runs on a clean clone without ../shared.
SHARED_COPY = Path(__file__).parent / "data" / "benchmarks.csv"
NOT_HR = [(key, org) for key, roles, org, _site in PEOPLE if "hr" not in roles]
HEADER = list(svc.COLUMNS)
GOOD = {
    "kind": "market",
    "name": "Test median wage",
    "region": "St. Louis MSA",
    "applies_to": "Community Health Workers",
    "hourly_usd": "22.50",
    "effective_from": "2025-05-31",
    "source": "BLS OEWS St. Louis MSA (May 2025)",
    "source_url": "https://www.bls.gov/oes/current/oes_41180.htm",
    "note": "",
}


def body(response) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def text(response) -> str:
    """The page's visible words, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", body(response)).split())


def figure(**changes) -> dict[str, str]:
    """A valid figure's cells, with some changed."""
    return {**GOOD, **changes}


def to_csv(*rows: dict[str, str], header: list[str] | None = None) -> str:
    """A CSV file of figures (cells by column name), header first, Unix line ends."""
    header = HEADER if header is None else header
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue()


def many(count: int) -> str:
    """A valid file of ``count`` new figures."""
    return to_csv(*(figure(name=f"Test figure {i}") for i in range(count)))


def shared_text() -> str:
    return SHARED_COPY.read_text(encoding="utf-8")


def stored(app) -> list[tuple]:
    """Every stored figure's values, in key order."""
    with app.app_context():
        return [
            (
                b.kind,
                b.name,
                b.region,
                b.applies_to,
                b.hourly_usd,
                b.effective_from,
                b.source,
                b.source_url,
                b.note,
            )
            for b in db.session.scalars(
                sa.select(Benchmark).order_by(
                    Benchmark.kind, Benchmark.name, Benchmark.applies_to, Benchmark.effective_from
                )
            )
        ]


def problems_of(text: str) -> list[Problem]:
    """The problems parse_benchmarks finds in a file (it must find some)."""
    with pytest.raises(BenchmarkImportError) as caught:
        svc.parse_benchmarks(text)
    return caught.value.problems


def hr_user(world) -> User:
    return db.session.get(User, world["user"]["hr"])


def empty_benchmarks(app) -> None:
    with app.app_context():
        db.session.execute(sa.delete(Benchmark))
        db.session.commit()


# --- the shared file ----------------------------------------------------------------------------


def test_the_shared_file_in_a_fresh_database_is_all_there_already(app, world):
    before = stored(app)
    assert len(before) == 12  # the migration loads it
    with app.app_context():
        rows = svc.parse_benchmarks(shared_text())
        result = svc.import_benchmarks(rows, hr_user(world))
        db.session.commit()
    assert result == svc.ImportResult(added=0, unchanged=12)
    assert stored(app) == before


def test_the_shared_file_into_an_empty_table_adds_every_figure(app, world):
    before = stored(app)
    empty_benchmarks(app)
    with app.app_context():
        result = svc.import_csv(shared_text(), hr_user(world))
        db.session.commit()
    assert result == svc.ImportResult(added=12, unchanged=0)
    assert stored(app) == before  # the same values as the migration's


def test_importing_twice_changes_nothing(app, world):
    empty_benchmarks(app)
    with app.app_context():
        assert svc.import_csv(shared_text(), hr_user(world)).added == 12
        db.session.commit()
    once = stored(app)
    with app.app_context():
        result = svc.import_csv(shared_text(), hr_user(world))
        db.session.commit()
    assert result == svc.ImportResult(added=0, unchanged=12)
    assert stored(app) == once
    assert len(once) == 12


def test_parsed_values_are_typed(app):
    rows = svc.parse_benchmarks(shared_text())
    assert len(rows) == 12
    first = rows[0]
    assert first["line"] == 2
    assert first["hourly_usd"] == Decimal("13.75")
    assert first["effective_from"] == date(2025, 1, 1)
    assert first["kind"] == "legal_floor"
    assert first["source_url"].startswith("https://")


# --- what is tolerated --------------------------------------------------------------------------


def test_bom_windows_line_ends_blank_lines_and_trailing_cells_are_tolerated(app):
    header, first, second = to_csv(figure(), figure(name="Other")).splitlines()
    text = "\ufeff" + "\r\n".join([header, "", first + ",,", "", second]) + "\r\n\r\n"
    rows = svc.parse_benchmarks(text)
    assert [r["name"] for r in rows] == ["Test median wage", "Other"]
    assert [r["line"] for r in rows] == [3, 5]


def test_an_uploaded_file_with_a_bom_is_read(app):
    data = ("\ufeff" + to_csv(figure())).encode("utf-8")
    assert svc.read_upload(io.BytesIO(data)).startswith("kind,")


def test_columns_in_any_order_and_any_case_and_an_empty_note(app):
    header = list(reversed(HEADER))
    text = to_csv(figure(note=""), header=header).replace("source_url", " Source_URL ", 1)
    (row,) = svc.parse_benchmarks(text)
    assert row["note"] == ""
    assert row["source_url"] == GOOD["source_url"]
    assert row["hourly_usd"] == Decimal("22.50")


def test_spaces_around_values_are_dropped_and_whole_dollars_read(app):
    (row,) = svc.parse_benchmarks(to_csv(figure(hourly_usd=" 15 ", name="  Padded  ")))
    assert row["hourly_usd"] == Decimal("15.00")
    assert row["name"] == "Padded"


def test_a_quoted_value_may_hold_commas_and_line_breaks(app):
    rows = svc.parse_benchmarks(to_csv(figure(note="one, two\nthree"), figure(name="Next")))
    assert rows[0]["note"] == "one, two\nthree"
    assert rows[1]["line"] == 4  # the line the figure starts on


# --- every kind of problem, with its message ----------------------------------------------------

KINDS = "legal_floor, living_wage, market, employer or peer"
VALUE_PROBLEMS = [
    (
        "kind",
        "wage",
        'Unknown kind "wage"; use legal_floor, living_wage, market, employer or peer.',
    ),
    ("kind", "", f"Give the kind: {KINDS}."),
    ("name", "", "Give the figure a name."),
    ("name", "x" * 201, "Too long: at most 200 characters."),
    ("region", "", "Give the region the figure is for, e.g. Missouri."),
    (
        "applies_to",
        "",
        "Say who the figure applies to, e.g. all workers or 1 adult 1 child.",
    ),
    ("hourly_usd", "", "Give the hourly value in dollars, e.g. 15.00."),
    ("hourly_usd", "abc", 'Not a number: "abc". Write dollars and cents like 15.00.'),
    ("hourly_usd", "15,00", 'Not a number: "15,00". Write dollars and cents like 15.00.'),
    ("hourly_usd", "1e3", 'Not a number: "1e3". Write dollars and cents like 15.00.'),
    ("hourly_usd", "-1.00", "The hourly value must be more than 0."),
    ("hourly_usd", "0", "The hourly value must be more than 0."),
    ("hourly_usd", "16.666", 'Use at most 2 decimals (dollars and cents), not "16.666".'),
    (
        "hourly_usd",
        "52000",
        "Over $500.00 an hour: is this a yearly or monthly figure? Benchmarks are hourly.",
    ),
    (
        "effective_from",
        "",
        "Give the date the figure takes effect, as YYYY-MM-DD.",
    ),
    (
        "effective_from",
        "01/01/2026",
        'Not a date: "01/01/2026". Write it as YYYY-MM-DD, e.g. 2026-01-01.',
    ),
    (
        "effective_from",
        "2025-02-30",
        'Not a date: "2025-02-30". Write it as YYYY-MM-DD, e.g. 2026-01-01.',
    ),
    (
        "effective_from",
        "1899-12-31",
        f"The date must be between 1990-01-01 and {date.today().year + 10}-12-31.",
    ),
    ("source", "", "Give the source: who published the figure."),
    ("source_url", "", "Give the source URL, so anyone can check the figure."),
    ("source_url", "www.bls.gov/oes", "The source URL must start with http:// or https://."),
    ("source_url", "javascript:alert(1)", "The source URL must start with http:// or https://."),
    ("source_url", "ftp://example.org/x", "The source URL must start with http:// or https://."),
    (
        "source_url",
        "https://",
        "The source URL is not a web address (no site name, or a space in it).",
    ),
    ("note", "n" * 1001, "Too long: at most 1,000 characters."),
]


@pytest.mark.parametrize(("column", "value", "message"), VALUE_PROBLEMS)
def test_each_bad_value_is_named_with_its_line_and_column(app, column, value, message):
    text = to_csv(figure(name="Fine"), figure(**{column: value}))
    assert problems_of(text) == [Problem(3, column, message)]


def test_the_header_may_not_lack_a_column(app):
    header = [c for c in HEADER if c != "source"]
    assert problems_of(to_csv(figure(), header=header)) == [
        Problem(1, "source", 'The header has no "source" column.')
    ]


def test_an_unknown_column_is_refused_not_ignored(app):
    text = to_csv(figure(), header=[*HEADER, "currency"])
    assert problems_of(text) == [
        Problem(
            1,
            "currency",
            'Unknown column "currency"; the columns are kind, name, region, applies_to, '
            "hourly_usd, effective_from, source, source_url, note.",
        )
    ]


def test_a_misspelt_column_is_unknown_and_its_column_missing(app):
    text = to_csv(figure(), header=HEADER).replace("hourly_usd", "hourly", 1)
    assert [(p.line, p.column) for p in problems_of(text)] == [(1, "hourly"), (1, "hourly_usd")]


def test_a_column_twice_and_a_column_without_a_name(app):
    text = to_csv(figure(), header=[*HEADER, "name", ""])
    assert problems_of(text) == [
        Problem(1, "", "Column 11 of the header has no name."),
        Problem(1, "name", 'The column "name" is in the header twice.'),
    ]


def test_a_file_without_a_header(app):
    text = to_csv(figure()).split("\n", 1)[1]
    assert problems_of(text) == [Problem(1, "", svc.NO_HEADER)]
    assert svc.NO_HEADER == (
        "The first line must be the header: "
        "kind,name,region,applies_to,hourly_usd,effective_from,source,source_url,note"
    )


@pytest.mark.parametrize("text", ["", "\ufeff", "\r\n\r\n", " , ,\n"])
def test_an_empty_file(app, text):
    assert problems_of(text) == [
        Problem(
            None,
            "",
            "The file is empty. Its first line must be the header: "
            "kind,name,region,applies_to,hourly_usd,effective_from,source,source_url,note",
        )
    ]


def test_a_header_without_figures(app):
    assert problems_of(to_csv()) == [Problem(None, "", "The file has a header but no figures.")]


def test_a_line_with_too_many_or_too_few_values(app):
    good = to_csv(figure()).splitlines()[1]
    text = to_csv(figure()) + good + ",extra\n" + good.rsplit(",", 2)[0] + "\n"
    assert problems_of(text) == [
        Problem(
            3,
            "",
            "This line has 10 values but the header has 9. "
            "Put double quotes around a value that contains a comma.",
        ),
        Problem(
            4,
            "",
            "This line has 7 values but the header has 9. "
            "Put double quotes around a value that contains a comma.",
        ),
    ]


def test_a_figure_twice_in_the_file(app):
    text = to_csv(figure(), figure(name="Other"), figure(note="again, differently"))
    assert problems_of(text) == [
        Problem(
            4,
            "",
            "The same figure (kind, name, applies_to, effective_from) is already on line 2.",
        )
    ]


def test_an_unclosed_quote(app):
    text = to_csv(figure()) + 'market,"Unclosed,St. Louis\n'
    (problem,) = problems_of(text)
    assert problem.line == 3
    assert problem.message.startswith("This line cannot be read as CSV")


def test_a_file_over_one_megabyte(app):
    text = to_csv(figure(note="n" * 900)) + "\n" * svc.MAX_BYTES
    assert problems_of(text) == [
        Problem(None, "", "The file is larger than 1 MB. Split it into smaller files.")
    ]
    with pytest.raises(BenchmarkImportError) as caught:
        svc.read_upload(io.BytesIO(b"x" * (svc.MAX_BYTES + 1)))
    assert caught.value.problems == [Problem(None, "", svc.TOO_BIG)]


def test_a_file_over_five_thousand_figures(app):
    assert problems_of(many(svc.MAX_ROWS + 1)) == [
        Problem(None, "", "The file has more than 5,000 figures. Split it into smaller files.")
    ]
    assert len(svc.parse_benchmarks(many(svc.MAX_ROWS))) == svc.MAX_ROWS


def test_a_file_that_is_not_utf8(app):
    with pytest.raises(BenchmarkImportError) as caught:
        svc.read_upload(io.BytesIO(to_csv(figure(name="Café")).encode("cp1252")))
    assert caught.value.problems == [
        Problem(None, "", 'The file is not UTF-8 text. In a spreadsheet, save it as "CSV UTF-8".')
    ]


def test_every_problem_of_a_file_is_listed_in_file_order_and_nothing_imported(app, world):
    before = stored(app)
    text = to_csv(
        figure(name="Valid one"),
        figure(kind="wage", hourly_usd="abc"),
        figure(name="Valid two"),
        figure(effective_from="2026-13-01", source="", source_url="bls.gov"),
        figure(name="Valid one", note="twice"),
    )
    with app.app_context():
        with pytest.raises(BenchmarkImportError) as caught:
            svc.import_csv(text, hr_user(world))
        db.session.commit()
    assert [(p.line, p.column) for p in caught.value.problems] == [
        (3, "kind"),
        (3, "hourly_usd"),
        (5, "effective_from"),
        (5, "source"),
        (5, "source_url"),
        (6, ""),
    ]
    assert stored(app) == before  # the valid figures were not imported either


# --- figures already stored ---------------------------------------------------------------------


def test_a_changed_value_for_a_stored_figure_is_refused(app, world):
    before = stored(app)
    text = shared_text().replace(",16.66,", ",16.76,")
    with app.app_context():
        with pytest.raises(BenchmarkImportError) as caught:
            svc.import_csv(text, hr_user(world))
        db.session.commit()
    assert caught.value.problems == [
        Problem(
            5,
            "hourly_usd",
            "Already imported with a different value, 16.66. "
            "A corrected figure needs a new effective date.",
        )
    ]
    assert stored(app) == before


def test_a_changed_source_or_note_is_refused_too(app, world):
    text = to_csv(
        figure(
            kind="peer",
            name="Reported violence interrupter pay (Los Angeles 2021)",
            region="Los Angeles",
            applies_to="Violence interrupters",
            hourly_usd="16.00",
            effective_from="2021-03-01",
            source="Someone else",
            source_url="https://www.thetrace.org/2021/03/gun-violence-interruptor-pay-los-angeles-milwaukee-chicago/",
            note="",
        ),
        figure(name="A new one"),
    )
    with app.app_context():
        rows = svc.parse_benchmarks(text)
        with pytest.raises(BenchmarkImportError) as caught:
            svc.import_benchmarks(rows, hr_user(world))
    assert caught.value.problems == [
        Problem(
            2,
            "source",
            'Already imported with a different source, "The Trace". '
            "A corrected figure needs a new effective date.",
        ),
        Problem(
            2,
            "note",
            "Already imported with a different note, "
            '"what the field pays today; not a fair-wage target". '
            "A corrected figure needs a new effective date.",
        ),
    ]
    assert len(stored(app)) == 12


def test_a_corrected_figure_with_a_new_date_is_added_beside_the_old(app, world):
    text = shared_text().replace(",16.66,2022-11-01,", ",16.76,2023-11-01,")
    with app.app_context():
        result = svc.import_csv(text, hr_user(world))
        db.session.commit()
    assert result == svc.ImportResult(added=1, unchanged=11)
    values = [(r[4], r[5]) for r in stored(app) if r[3] == "1 adult 0 children"]
    assert values == [(Decimal("16.66"), date(2022, 11, 1)), (Decimal("16.76"), date(2023, 11, 1))]


def test_a_figure_imported_meanwhile_by_someone_else_refuses_the_file(app, world, monkeypatch):
    monkeypatch.setattr(svc, "_stored", lambda rows: {})  # as if checked before the other commit
    with app.app_context():
        with pytest.raises(BenchmarkImportError) as caught:
            svc.import_csv(shared_text(), hr_user(world))
        db.session.commit()
    assert caught.value.problems == [
        Problem(None, "", "Someone else imported figures at the same moment. Import again.")
    ]
    assert len(stored(app)) == 12


def test_an_import_runs_the_same_number_of_queries_whatever_its_size(app, world, count_queries):
    def measure(size: int) -> int:
        with app.app_context():
            actor = hr_user(world)
            rows = svc.parse_benchmarks(many(size))
            with count_queries() as count:
                result = svc.import_benchmarks(rows, actor)
            db.session.rollback()
        assert result.added == size
        return count()

    small, large = measure(5), measure(200)
    assert small == large
    # The stored figures, a savepoint, one insert, its release; the actor's roles (audit event).
    assert small <= 6  # 5, and the bump of every organisation's data version (portal.versions)


# --- the pages ----------------------------------------------------------------------------------


def test_the_list_shows_every_figure_with_its_source(client, auth, world):
    auth.as_role("hr")
    response = client.get("/hr/benchmarks/")
    assert response.status_code == 200
    page = body(response)
    words = text(response)
    headings = re.findall(r"<h2 id=\"kind-[a-z_]+\">([^<]+)</h2>", page)
    assert headings == ["Legal floors", "Living wage", "Market rates", "Employer rates", "Peer pay"]
    for row in csv.DictReader(io.StringIO(shared_text())):
        assert f'<a href="{row["source_url"]}" rel="noopener noreferrer">{row["source"]}</a>' in (
            page.replace("&#39;", "'")
        )
        assert urlsplit(row["source_url"]).hostname in words
        assert row["name"] in words
        assert row["note"] in words
    assert "$15.00 an hour from Jan 1, 2026" in words
    # Newest first within a name: the 2026 minimum wage before the 2025 one.
    assert words.index("$15.00 an hour from Jan 1, 2026") < words.index(
        "$13.75 an hour from Jan 1, 2025"
    )
    assert "Region: Missouri · Applies to: all workers" in words


def test_the_list_marks_the_figure_in_force(client, auth, world, app):
    with app.app_context():
        db.session.add(
            Benchmark(
                kind="legal_floor",
                name="Missouri minimum wage",
                region="Missouri",
                applies_to="all workers",
                hourly_usd=Decimal("16.00"),
                effective_from=date(2099, 1, 1),
                source="A future law",
                source_url="https://example.org/law",
                note="",
            )
        )
        db.session.commit()
    auth.as_role("hr")
    words = text(client.get("/hr/benchmarks/"))
    assert "$16.00 an hour from Jan 1, 2099 Scheduled" in words
    assert "$15.00 an hour from Jan 1, 2026 In force" in words
    assert "$13.75 an hour from Jan 1, 2025 Earlier" in words


def test_the_import_page_has_a_file_field_and_a_text_box(client, auth, world):
    auth.as_role("hr")
    response = client.get("/hr/benchmarks/import")
    assert response.status_code == 200
    page = body(response)
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and 'accept=".csv,text/csv"' in page
    assert "<textarea" in page
    assert '<label for="file">' in page and '<label for="text">' in page


def test_uploading_a_file_imports_it_and_says_how_many(client, auth, world, app):
    auth.as_role("hr")
    data = to_csv(figure(), figure(name="Other", note="a note")).encode()
    response = client.post(
        "/hr/benchmarks/import",
        data={"file": (io.BytesIO(data), "b.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/hr/benchmarks/"
    page = client.get("/hr/benchmarks/")
    assert "Imported 2 new figures; 0 were already there." in text(page)
    assert "Other" in text(page)
    assert len(stored(app)) == 14


def test_uploading_the_shared_file_changes_nothing(client, auth, world, app):
    before = stored(app)
    auth.as_role("hr")
    response = client.post(
        "/hr/benchmarks/import",
        data={"file": (io.BytesIO(SHARED_COPY.read_bytes()), "benchmarks.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Imported 0 new figures; 12 were already there." in text(response)
    assert stored(app) == before


def test_pasting_the_csv_imports_it(client, auth, world, app):
    auth.as_role("hr")
    response = client.post(
        "/hr/benchmarks/import",
        data={"text": to_csv(figure()).replace("\n", "\r\n")},
        follow_redirects=True,
    )
    assert "Imported 1 new figure; 0 were already there." in text(response)
    assert len(stored(app)) == 13


def test_a_refused_file_lists_every_problem_and_imports_nothing(client, auth, world, app):
    before = stored(app)
    auth.as_role("hr")
    data = to_csv(figure(name="Valid"), figure(kind="wage"), figure(hourly_usd="-2")).encode()
    response = client.post(
        "/hr/benchmarks/import",
        data={"file": (io.BytesIO(data), "b.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = body(response)
    assert 'role="alert"' in page
    words = text(response)
    assert "Nothing was imported. The file has 2 problems" in words
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", page)
    assert rows == [
        (
            "3",
            "kind",
            "Unknown kind &#34;wage&#34;; use legal_floor, living_wage, market, employer or peer.",
        ),
        ("4", "hourly_usd", "The hourly value must be more than 0."),
    ]
    assert stored(app) == before


def test_a_refused_paste_keeps_the_text(client, auth, world):
    auth.as_role("hr")
    pasted = to_csv(figure(hourly_usd="abc"))
    response = client.post("/hr/benchmarks/import", data={"text": pasted})
    assert response.status_code == 422
    assert "Test median wage" in body(response).split("<textarea", 1)[1]
    assert "Whole file" not in text(response)


def test_a_file_wide_problem_is_shown_as_the_whole_file(client, auth, world):
    auth.as_role("hr")
    response = client.post(
        "/hr/benchmarks/import",
        data={"file": (io.BytesIO("Café".encode("cp1252")), "b.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Whole file" in text(response)
    assert "The file is not UTF-8 text." in text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a CSV file, or paste its contents below."),
        ({"text": "   \n"}, "Choose a CSV file, or paste its contents below."),
        (
            {"file": (io.BytesIO(b"kind"), "b.txt")},
            "Choose a file whose name ends in .csv.",
        ),
        (
            {"file": (io.BytesIO(b"kind"), "b.csv"), "text": "kind"},
            "Choose a file or paste the figures, not both.",
        ),
    ],
)
def test_a_file_or_a_paste_is_needed(client, auth, world, app, data, message):
    auth.as_role("hr")
    response = client.post("/hr/benchmarks/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'role="alert"' in body(response)
    assert message in text(response)
    assert len(stored(app)) == 12


@pytest.mark.parametrize(("key", "org"), NOT_HR)
def test_only_hr_reaches_the_benchmark_pages(client, auth, world, app, key, org):
    auth.login(email_for(key, org))
    assert client.get("/hr/benchmarks/").status_code == 404
    assert client.get("/hr/benchmarks/import").status_code == 404
    response = client.post(
        "/hr/benchmarks/import",
        data={"file": (io.BytesIO(many(1).encode()), "b.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    assert len(stored(app)) == 12


def test_anonymous_visitors_are_sent_to_sign_in(client, app):
    for method, url in [
        ("GET", "/hr/benchmarks/"),
        ("GET", "/hr/benchmarks/import"),
        ("POST", "/hr/benchmarks/import"),
    ]:
        response = client.open(url, method=method, data={"text": many(1)})
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login")
    assert len(stored(app)) == 12
