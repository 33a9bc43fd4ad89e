"""report.html from templates/report.html.j2 (README "How to read the report"): students
named by student_id and username only, nothing loaded, no timestamp, every value escaped."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

REPORT_FILE = "report.html"
MAX_TABLE_ROWS = 1000  # rows shown per table; the CSV files hold them all
OUTCOMES = ("exported", "skipped", "rejected")
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _escape(value: Any) -> str:
    """HTML-escaped text (None as empty); a carriage return as a reference: "\\n" ends only."""
    if isinstance(value, Markup):
        return value
    text = "" if value is None else str(value)
    return html.escape(text, quote=True).replace("\r", "&#13;")


def _pointer(*keys: str) -> str:
    """The JSON pointer (RFC 6901) of a value in manifest.json."""
    return "".join("/" + key.replace("~", "~0").replace("/", "~1") for key in keys)


def _bar(count: int, largest: int) -> int:
    """A bar's width of the 300 pixels of the chart (at least 1 for a count)."""
    return (count * 300 + largest // 2) // largest or (1 if count else 0)


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=False,  # finalize escapes every value, with html.escape's bytes
    finalize=_escape,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_ENVIRONMENT.filters.update(
    number="{:,}".format,
    percent=lambda share: f"{float(share) * 100:.1f} %",
    share=lambda share: f"{float(share) * 100:g} %",  # a threshold: 0.5 is "50 %"
    json=json.dumps,
)
_ENVIRONMENT.globals.update(pointer=_pointer, bar=_bar)


def render(manifest: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    """The whole page: deterministic for the same manifest and rows."""
    outcomes = manifest.get("outcomes", {})
    as_of_date = str(manifest.get("as_of_date", ""))
    names = [*OUTCOMES, *sorted(set(outcomes) - set(OUTCOMES))]
    return _ENVIRONMENT.get_template("report.html.j2").render(
        manifest=manifest,
        data=data,
        as_of_date=as_of_date,
        update_file=f"alumni_update_{as_of_date.replace('-', '')}.csv",
        csp=Markup(CONTENT_SECURITY_POLICY),
        outcome_names=names,
        outcome_total=sum(int(outcomes.get(name, 0)) for name in names),
        issue_total=sum(sum(codes.values()) for codes in manifest.get("issues", {}).values()),
    )
