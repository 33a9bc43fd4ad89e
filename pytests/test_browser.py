"""Browser tests in headless Chromium: the docs site and the sync report.

The docs site (index.html, manifest.json and catalog.json of `dbt docs
generate`, conftest.sample_build) and report.html of the sample export are
served by a local HTTP server on 127.0.0.1 and opened in a fresh Chromium
profile. Every request the page makes is recorded through the DevTools
Network domain: none may leave the machine. Screenshots go to
screenshots/browser/ (git-ignored), or $HANDSHAKE_SCREENSHOTS_DIR.

Chromium is Debian's `chromium` package: `make browser` installs it (as
root) and `make test` sets HANDSHAKE_REQUIRE_BROWSER=1, so that a missing
browser fails the run; a bare `pytest` installs it when it can and skips
these tests otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from chromium import Chromium, LoggingServer, Page, ensure_chromium, is_local_url

if TYPE_CHECKING:
    from conftest import SampleBuild

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(
    os.environ.get("HANDSHAKE_SCREENSHOTS_DIR") or PROJECT_ROOT / "screenshots" / "browser"
)
DOCS_FILES = ("index.html", "manifest.json", "catalog.json")
MODEL_ID = "model.handshake_alumni.sync_users"
# The cytoscape instance dbt docs draws the lineage graph with.
GRAPH = """(() => {
  const registry = document.getElementById('cy') && document.getElementById('cy')._cyreg;
  if (!registry || !registry.cy) return null;
  const cy = registry.cy;
  const canvases = Array.from(document.querySelectorAll('#cy canvas'));
  return {
    nodes: cy.nodes(':visible').map(node => node.data('label')),
    edges: cy.edges(':visible').length,
    drawn: canvases.some(canvas => canvas.width > 0 && canvas.height > 0),
  };
})()"""


@pytest.fixture(scope="module")
def chromium_path() -> str:
    try:
        found = ensure_chromium()
    except Exception as error:  # apt-get failed: report it below
        found = None
        reason = f"installing chromium failed: {error}"
    else:
        reason = "chromium is not installed (make browser installs it as root)"
    if found:
        return found
    if os.environ.get("HANDSHAKE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    profile = tmp_path_factory.mktemp("chromium")
    with Chromium(chromium_path, profile / "user-data", profile / "chromium.log") as chromium:
        yield chromium


def site_with(tmp_path: Path, files: dict[str, Path]) -> Path:
    """A folder holding only the files to serve."""
    site = tmp_path / "site"
    site.mkdir()
    for name, source in files.items():
        shutil.copy2(source, site / name)
    return site


def assert_stayed_local(page: Page, server: LoggingServer) -> None:
    urls = page.requested_urls()
    assert urls, "the Network domain recorded no request"
    outside = [url for url in urls if not is_local_url(url)]
    assert not outside, f"requests outside localhost: {outside}"
    assert all(url.startswith(server.url) for url in urls if url.startswith("http"))


def test_docs_site_renders_the_lineage_graph_and_a_model_page_from_localhost(
    sample_build: SampleBuild, browser: Chromium, tmp_path: Path
) -> None:
    target = sample_build.target_dir
    site = site_with(tmp_path, {name: target / name for name in DOCS_FILES})
    with LoggingServer(site).running() as server:
        page = browser.new_page()
        page.navigate(f"{server.url}/index.html")
        page.wait_for("document.body.innerText.includes('Settings (dbt vars)')")
        overview = page.evaluate("document.body.innerText")
        assert "disable_alumni_after_days" in overview and "raw_data_dir" in overview
        page.screenshot(SCREENSHOTS / "docs_overview.png")

        page.evaluate(f"location.hash = '#!/model/{MODEL_ID}'")
        page.wait_for("document.body.innerText.includes('One row per username')")
        page.wait_for("document.querySelectorAll('tr.column-row').length >= 18")
        text = page.evaluate("document.body.innerText")
        assert "sync_users" in text
        for column in ("email_address", "primary_major_name", "is_email_changed"):
            assert column in text, column
        # The rule doc blocks are rendered into the model's description.
        assert "Which students go in which file." in text
        page.screenshot(SCREENSHOTS / "docs_model_sync_users.png")

        page.evaluate("document.querySelector('a[ng-click=\"showExpanded()\"]').click()")
        graph = page.wait_for(f"(g => g && g.drawn && g.nodes.length >= 20 && g)({GRAPH})")
        assert {"sis_students", "stg_sis__students", "int_sync_rows_built", "sync_users"} <= set(
            graph["nodes"]
        )
        assert "Student sync file" in graph["nodes"]
        assert graph["edges"] >= len(graph["nodes"]) - 1
        page.screenshot(SCREENSHOTS / "docs_lineage_sync_users.png")

        assert_stayed_local(page, server)
        asked = {path.split("?")[0] for path in server.requests}
        assert {"/index.html", "/manifest.json", "/catalog.json"} <= asked


def test_report_shows_the_counts_of_the_manifest(
    sample_build: SampleBuild, browser: Chromium, tmp_path: Path
) -> None:
    manifest = sample_build.manifest()
    site = site_with(tmp_path, {"report.html": sample_build.output_dir / "report.html"})
    with LoggingServer(site).running() as server:
        page = browser.new_page(height=1200)
        page.navigate(f"{server.url}/report.html")
        shown: list[dict[str, Any]] = page.evaluate(
            "Array.from(document.querySelectorAll('[data-manifest]')).map(cell => ({"
            "pointer: cell.dataset.manifest, value: cell.dataset.value, text: cell.innerText}))"
        )
        chart = page.evaluate(
            "Array.from(document.querySelectorAll('#outcome-chart rect'))"
            ".map(bar => [bar.dataset.outcome, bar.getBoundingClientRect().width])"
        )
        title = page.evaluate("document.title")
        scripts = page.evaluate("document.scripts.length")
        page.screenshot(SCREENSHOTS / "report.png", full_page=True)
        assert_stayed_local(page, server)

    assert title == f"Handshake sync report {manifest['as_of_date']}"
    assert scripts == 0
    by_pointer = {cell["pointer"]: cell for cell in shown}
    expected = {f"/outcomes/{name}": count for name, count in manifest["outcomes"].items()}
    expected |= {
        f"/issues/{severity}/{code}": count
        for severity, codes in manifest["issues"].items()
        for code, count in codes.items()
    }
    expected |= {
        f"/files/{name}/rows": entry["rows"]
        for name, entry in manifest["files"].items()
        if name != "report.html"
    }
    expected |= {f"/preflight/{key}": value for key, value in manifest["preflight"].items()}
    assert set(by_pointer) == set(expected)
    for pointer, value in expected.items():
        cell = by_pointer[pointer]
        assert json.loads(cell["value"]) == value, pointer
        if isinstance(value, int) and not isinstance(value, bool):
            assert cell["text"].replace(",", "") == str(value), pointer
    # One bar per outcome, as long as its count (the largest is 300 px).
    assert [name for name, _ in chart] == ["exported", "skipped", "rejected"]
    largest = max(manifest["outcomes"].values())
    for name, width in chart:
        assert abs(width - manifest["outcomes"][name] * 300 / largest) <= 1, name
