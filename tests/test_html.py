"""The HTML report and ``--plots`` (SPEC "Reports, figures and trackers"): one
self-contained page (a CSP meta, no script, no URL but the SVG namespaces), figures
drawn from the histograms (the bars' heights in the SVG are NumPy's counts of the
per-sample rows), names escaped, the same bytes twice, the same size for 1k and 1M rows;
``--plots`` files written with the run or not at all; without matplotlib a usage error
naming the extra. The browser's view is ``test_html_browser.py``."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

import xentcli
from xentcli.cli import cli
from xentcli.report.figures import MAX_BARS, render, score_plots
from xentcli.report.html import CSP, summary_html

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
COW = "[cow] <b>"
SVG = "{http://www.w3.org/2000/svg}"


def xent(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="xent", catch_exceptions=False)


@pytest.fixture()
def cow(tmp_path: Path) -> Path:
    """The sample cancer predictions with the class ``malignant`` renamed ``[cow] <b>``."""
    text = (SAMPLE / "cancer.csv").read_text().replace("malignant", COW)
    path = tmp_path / "cow.csv"
    path.write_text(text)
    return path


def test_the_page_is_self_contained_and_escapes_names(cow: Path, tmp_path: Path) -> None:
    page_path = tmp_path / "r.html"
    result = xent("score", str(cow), "-o", str(page_path), "--max-loss", "1", "-q")
    assert result.exit_code == 0, result.output
    page = page_path.read_text()
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert page.count("<svg") == 4
    urls = set(re.findall(r"https?://[^\"' )>]+", page))
    xmlns = set(re.findall(r'xmlns(?::\w+)?="(https?://[^"]+)"', page))
    assert urls == xmlns  # every URL is an SVG namespace identifier, never fetched
    assert "[cow] &lt;b&gt;" in page  # in the tables and in the SVG text
    assert "<b>" not in page
    assert 'class="passed"' in page and "xent: passed" in page


def bar_heights(svg: str, prefix: str) -> list[float]:
    """The height of each bar ``prefix_i`` of a matplotlib SVG (a closed path of four
    corners: ``M x0 y0 L x1 y1 L x2 y2 L x3 y3 z``)."""
    root = ET.fromstring(svg)
    heights = {}
    for group in root.iter(f"{SVG}g"):
        name = group.get("id", "")
        if re.fullmatch(rf"{prefix}_\d+", name):
            path = group.find(f"{SVG}path")
            assert path is not None
            numbers = [float(v) for v in re.findall(r"-?[\d.]+(?:e-?\d+)?", path.get("d", ""))]
            heights[int(name.rsplit("_", 1)[1])] = abs(numbers[1] - numbers[5])
    return [heights[i] for i in range(len(heights))]


def test_the_svg_bars_are_numpys_counts_of_the_per_sample_rows() -> None:
    summary, rows = xentcli.score(
        str(SAMPLE / "digits_logits.parquet"),
        str(SAMPLE / "digits_labels.csv"),
        per_sample=True,
        histograms=True,
    )
    plots = {p.name: p for p in score_plots(summary)}
    heights = np.asarray(bar_heights(render(plots["loss_curve"], "svg").decode(), "p_true_bin"))
    counts, _ = np.histogram(np.asarray(rows["p_true"]), bins=50, range=(0, 1))
    assert heights.size == counts.size == 50
    unit = heights[counts.argmax()] / counts.max()  # pixels per row: a linear axis
    np.testing.assert_allclose(heights, counts * unit, atol=1e-3)
    # the loss histogram has a log axis: a bar is empty exactly where numpy counts none
    heights = np.asarray(bar_heights(render(plots["loss_histogram"], "svg").decode(), "loss_bin"))
    loss = np.asarray(rows["loss"])
    counts, _ = np.histogram(loss[loss < 12], bins=48, range=(0, 12))
    assert ((heights > 0) == (counts > 0)).all()
    assert (
        np.argsort(-counts, kind="stable")[:3].tolist()
        == np.argsort(-heights, kind="stable")[:3].tolist()
    )


def test_same_input_same_bytes(tmp_path: Path) -> None:
    args = [str(SAMPLE / "digits_probs.csv"), str(SAMPLE / "digits_labels.csv"), "-q"]
    pages = []
    for i in range(2):
        out = tmp_path / f"r{i}.html"
        assert (
            xent("score", *args, "-o", str(out), "--plots", str(tmp_path / f"p{i}")).exit_code == 0
        )
        pages.append(out.read_bytes())
    assert pages[0] == pages[1]
    for name in ("loss_curve", "loss_histogram", "reliability", "per_class"):
        assert (tmp_path / f"p0/{name}.png").read_bytes() == (
            tmp_path / f"p1/{name}.png"
        ).read_bytes()


def test_the_size_does_not_grow_with_the_rows() -> None:
    rng = np.random.default_rng(0)
    sizes = {}
    for n in (1_000, 1_000_000):
        logits = rng.normal(0, 3, size=(n, 3))
        labels = rng.integers(0, 3, n)
        sizes[n] = len(summary_html(xentcli.cross_entropy(logits, labels)).encode())
    assert abs(sizes[1_000_000] - sizes[1_000]) / sizes[1_000] < 0.03, sizes
    assert sizes[1_000] < 150_000


def test_many_classes_draw_at_most_max_bars() -> None:
    rng = np.random.default_rng(1)
    k = 200
    summary = xentcli.cross_entropy(rng.normal(size=(2000, k)), rng.integers(0, k, 2000))
    plot = next(p for p in score_plots(summary) if p.name == "per_class")
    svg = render(plot, "svg").decode()
    assert f"the {MAX_BARS} highest of 200" in svg
    assert len(re.findall(r'<g id="class_bar_\d+">', svg)) == MAX_BARS
    ranked = sorted(summary.per_class, key=lambda c: -c.mean_loss)
    assert f">{ranked[0].name} <" in svg.replace("</text>", " <")
    assert f">{ranked[-1].name} <" not in svg.replace("</text>", " <")


def test_plots_png_and_svg(tmp_path: Path) -> None:
    args = [str(SAMPLE / "digits_logits.parquet"), str(SAMPLE / "digits_labels.csv"), "-q"]
    figs = tmp_path / "figs"
    assert xent("score", *args, "--plots", str(figs)).exit_code == 0
    names = sorted(p.name for p in figs.iterdir())
    assert names == ["loss_curve.png", "loss_histogram.png", "per_class.png", "reliability.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in figs.iterdir())
    svg = tmp_path / "svg"
    assert xent("score", *args, "--plots", str(svg), "--plot-format", "svg").exit_code == 0
    assert ET.parse(svg / "reliability.svg").getroot().tag == f"{SVG}svg"
    assert "ECE 0.0998" in (svg / "reliability.svg").read_text()


def test_a_failed_run_leaves_no_plots_and_no_folder(tmp_path: Path) -> None:
    figs = tmp_path / "figs"
    result = xent(
        "score",
        str(SAMPLE / "digits_logits.parquet"),
        str(tmp_path / "nope.csv"),
        "--plots",
        str(figs),
        "-o",
        str(tmp_path / "r.html"),
        "-q",
    )
    assert result.exit_code == 2 and "Error:" in result.output
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "old"
    existing.mkdir()
    (existing / "loss_curve.png").write_bytes(b"before")
    result = xent(
        "score",
        str(SAMPLE / "digits_logits.parquet"),
        str(tmp_path / "nope.csv"),
        "--plots",
        str(existing),
        "-q",
    )
    assert result.exit_code == 2
    assert [p.name for p in existing.iterdir()] == ["loss_curve.png"]
    assert (existing / "loss_curve.png").read_bytes() == b"before"


def test_a_failed_gate_still_writes_the_page_and_plots(tmp_path: Path) -> None:
    result = xent(
        "score",
        str(SAMPLE / "digits_probs.csv"),
        str(SAMPLE / "digits_labels.csv"),
        "--max-loss",
        "0.1",
        "-o",
        str(tmp_path / "r.html"),
        "--plots",
        str(tmp_path / "f"),
        "-q",
    )
    assert result.exit_code == 1
    page = (tmp_path / "r.html").read_text()
    assert 'class="failed"' in page and "xent: failed (max_loss)" in page
    assert len(list((tmp_path / "f").iterdir())) == 4


def test_compare_page_paired_and_from_reports(tmp_path: Path) -> None:
    base, new = str(SAMPLE / "digits_probs.csv"), str(SAMPLE / "digits_probs_weak.csv")
    labels = str(SAMPLE / "digits_labels.csv")
    page = tmp_path / "c.html"
    result = xent(
        "compare", base, new, labels, "-o", str(page), "--plots", str(tmp_path / "f"), "-q"
    )
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert text.count("<svg") == 3 and f'content="{CSP}"' in text
    assert "rows better (green)" in text
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == [
        "d_histogram.png",
        "histograms.png",
        "per_class_delta.png",
    ]
    for side, preds in (("a", base), ("b", new)):
        assert (
            xent(
                "score", preds, labels, "--histograms", "-o", str(tmp_path / f"{side}.json"), "-q"
            ).exit_code
            == 0
        )
    result = xent(
        "compare",
        str(tmp_path / "a.json"),
        str(tmp_path / "b.json"),
        "-o",
        str(tmp_path / "r.html"),
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").read_text().count("<svg") == 2  # from reports: no d


def run_without_matplotlib(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command in a fresh interpreter where ``import matplotlib`` fails."""
    code = textwrap.dedent(f"""
        import sys
        sys.modules["matplotlib"] = None  # import matplotlib: ImportError
        from xentcli.cli import cli
        cli({args!r}, prog_name="xent")
    """)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("option", [["-o", "r.html"], ["--plots", "figs"]])
def test_without_the_extra_a_usage_error_names_it(tmp_path: Path, option: list[str]) -> None:
    args = ["score", str(SAMPLE / "cancer.csv"), *option, "-q"]
    done = run_without_matplotlib(args, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Error: ") and "xentcli[plot]" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    done = run_without_matplotlib(
        ["score", str(SAMPLE / "cancer.csv"), "-o", "r.json", "-q"], tmp_path
    )
    assert done.returncode == 0 and (tmp_path / "r.json").exists()


def test_only_the_figures_import_matplotlib(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys
        from xentcli.cli import cli
        for args in (["-o", "r.json"], ["-o", "r.html"]):
            try:
                cli(["score", {str(SAMPLE / "cancer.csv")!r}, *args, "-q"], prog_name="xent")
            except SystemExit as exc:
                assert exc.code == 0, exc.code
            print("matplotlib" in sys.modules, file=sys.stderr)
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.stderr.split() == ["False", "True"], done.stderr


def text_inside(root: ET.Element, name: str) -> None:
    """Each horizontal ``<text>`` fits its SVG's view box, its width measured in DejaVu
    Sans (the font the SVG asks for first); rotated text keeps its anchor inside."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    texts = list(root.iter(f"{SVG}text"))
    assert texts, name
    for text in texts:
        transform = text.get("transform") or ""
        moved = re.search(r"translate\(([-\d.e]+) ([-\d.e]+)\)", transform)
        if moved:  # rotated tick labels: the anchor is the translation
            x, y = float(moved.group(1)), float(moved.group(2))
        else:
            x, y = float(text.get("x", "0")), float(text.get("y", "0"))
        style = text.get("style", "")
        size = float(re.search(r"font-size: ([\d.]+)px", style).group(1))  # type: ignore[union-attr]
        font = FontProperties(family="DejaVu Sans", size=size)
        extent = TextToPath().get_text_width_height_descent(text.text or "", font, False)[0]
        if re.search(r"rotate\(-(90|45)", transform):
            extent = 0.0
        anchor = re.search(r"text-anchor: (\w+)", style)
        left, right = {
            "middle": (x - extent / 2, x + extent / 2),
            "end": (x - extent, x),
        }.get(anchor.group(1) if anchor else "start", (x, x + extent))
        assert left >= 0 and right <= width and 5 < y < height, (name, text.text, left, right)


def test_every_figure_text_lies_inside_its_figure(cow: Path, tmp_path: Path) -> None:
    """No label drawn outside the canvas (constrained layout), score's and compare's."""
    from xentcli.report.figures import compare_plots

    summary = xentcli.score(str(cow), histograms=True)
    for plot in score_plots(summary):
        text_inside(ET.fromstring(render(plot, "svg").decode()), plot.name)
    base, new = str(SAMPLE / "digits_probs.csv"), str(SAMPLE / "digits_probs_weak.csv")
    comparison = xentcli.compare(base, new, str(SAMPLE / "digits_labels.csv"), histograms=True)
    plots = compare_plots(comparison)
    assert [p.name for p in plots] == ["per_class_delta", "histograms", "d_histogram"]
    for plot in plots:
        text_inside(ET.fromstring(render(plot, "svg").decode()), plot.name)
