"""The HTML report in a real browser: headless Chromium renders a report of the sample
data with a class renamed ``[cow] <b>``; its DOM (``--dump-dom``) has the four figures
with their text, the name as text (no ``<b>`` element), the CSP meta, and no URL but the
SVG namespaces; its screenshot is not blank and nothing reaches the window's right or
bottom edge (nothing clipped or cut). Skipped, saying so, where Chromium is missing
(``.ci/run`` installs it when it can)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from xentcli.cli import cli
from xentcli.report.html import CSP

ROOT = Path(__file__).resolve().parent.parent
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1200, 3000  # taller than the page: its end is in the picture

pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="chromium is not installed (apt-get install chromium)"
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    assert BROWSER is not None
    command = [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},{HEIGHT}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, timeout=120, cwd=tmp_path)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    preds = folder / "cow.csv"
    preds.write_text(
        (ROOT / "sample_data/cancer.csv").read_text().replace("malignant", "[cow] <b>")
    )
    page = folder / "report.html"
    result = CliRunner().invoke(cli, ["score", str(preds), "-o", str(page), "-q"])
    assert result.exit_code == 0, result.output
    return page


def test_the_dom_has_the_figures_and_the_name_as_text(report: Path, tmp_path: Path) -> None:
    done = chromium(tmp_path, "--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    dom = done.stdout.decode()
    assert dom.count("<svg") == 4
    for text in (
        "p_true: the probability the model gave the true class",
        "loss (nats)",
        "ECE 0.0431",
        "Mean loss per class (nats)",
    ):
        assert text in dom
    assert "[cow] &lt;b&gt;" in dom and "<b>" not in dom
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in dom
    urls = set(re.findall(r"https?://[^\"' )>]+", dom))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_the_screenshot_is_not_blank_and_nothing_is_cut(report: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    shot = tmp_path / "shot.png"
    done = chromium(tmp_path, f"--screenshot={shot}", report.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr.decode()[-2000:]
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("L")
    assert image.size == (WIDTH, HEIGHT)
    assert ImageStat.Stat(image).var[0] > 100  # figures and text, not a blank page
    right = image.crop((WIDTH - 8, 0, WIDTH, HEIGHT))
    bottom = image.crop((0, HEIGHT - 200, WIDTH, HEIGHT))
    assert right.getextrema() == (255, 255)  # nothing runs off the right edge
    assert bottom.getextrema() == (255, 255)  # the page ends inside the window
    # each figure drew something: the upper half has the four figures' ink
    top = image.crop((0, 0, WIDTH, 800))
    assert sum(top.histogram()[:128]) > 5_000
