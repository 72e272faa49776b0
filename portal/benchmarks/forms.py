"""Benchmark forms: a CSV file to import, or its text pasted (easier on a phone)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import SubmitField, TextAreaField


class ImportForm(FlaskForm):
    """A CSV file of benchmark figures, uploaded or pasted: one of the two, not both.

    The file is not ``FileRequired``: pasting the text is the other way to give it, so the form
    checks that exactly one was given.
    """

    file = FileField(
        "CSV file",
        validators=[FileAllowed(["csv"], "Choose a file whose name ends in .csv.")],
        description="At most 1 MB and 5,000 figures.",
        render_kw={"accept": ".csv,text/csv"},
    )
    text = TextAreaField(
        "Or paste the CSV here",
        description="The first line names the columns, as listed under Columns below.",
        render_kw={
            "rows": 6,
            "spellcheck": "false",
            "autocapitalize": "off",
            "autocomplete": "off",
        },
    )
    submit = SubmitField("Check and import")

    def validate(self, extra_validators=None) -> bool:
        """A file or pasted text, exactly one of them."""
        ok = super().validate(extra_validators)
        has_file = bool(self.file.data)
        has_text = bool((self.text.data or "").strip())
        if not has_file and not has_text and not self.file.errors:
            self.file.errors = list(self.file.errors) + [
                "Choose a CSV file, or paste its contents below."
            ]
            return False
        if has_file and has_text:
            self.text.errors = list(self.text.errors) + [
                "Choose a file or paste the figures, not both."
            ]
            return False
        return ok
