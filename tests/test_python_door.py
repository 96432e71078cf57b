"""The Python door as a notebook user meets it: arrays and one-column frames as inputs,
per-sample losses (checked against torch and the ``--per-sample`` writer), the notebook
views (escaping checked with a CommonMark renderer and an HTML parser), ``__all__``, and
errors about in-memory inputs that name the argument, never a file or a header."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from markdown_it import MarkdownIt
from sklearn.metrics import log_loss

import xentcli
from xentcli import CalibrationBin, Interval, SliceSummary, WorstRow, XentError
from xentcli.cli import cli

RNG = np.random.default_rng(11)
P = RNG.dirichlet(np.ones(3), 40)
Y = RNG.integers(0, 3, 40)
TRUE = log_loss(Y, P)


# -- inputs ------------------------------------------------------------------------------

LABEL_KINDS = {
    "pandas df[['y']]": lambda: pd.DataFrame({"y": Y})[["y"]],
    "pandas Series": lambda: pd.Series(Y, name="y"),
    "pyarrow table": lambda: pa.table({"y": Y}),
    "pyarrow array": lambda: pa.array(Y),
    "polars frame": lambda: pl.DataFrame({"y": Y}),
    "polars Series": lambda: pl.Series("y", Y),
    "numpy 1-D": lambda: Y,
    "list": lambda: Y.tolist(),
}
PRED_KINDS = {
    "numpy 2-D": lambda: P,
    "list of rows": lambda: P.tolist(),
    "torch tensor": lambda: torch.tensor(P),
    "pandas": lambda: pd.DataFrame(P, columns=["0", "1", "2"]),
    "polars": lambda: pl.DataFrame({str(j): P[:, j] for j in range(3)}),
}


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_one_column_labels_of_every_kind(kind: str) -> None:
    got = xentcli.score(P, LABEL_KINDS[kind]())
    assert got.loss == pytest.approx(TRUE, rel=1e-12)
    assert got.n_samples == 40


@pytest.mark.parametrize("kind", PRED_KINDS)
def test_predictions_of_every_kind(kind: str) -> None:
    assert xentcli.score(PRED_KINDS[kind](), Y).loss == pytest.approx(TRUE, rel=1e-12)


def test_numpy_arrays_score_as_their_npy_files(tmp_path: Path) -> None:
    np.save(tmp_path / "p.npy", P)
    np.save(tmp_path / "y.npy", Y)
    result = CliRunner().invoke(
        cli, ["score", str(tmp_path / "p.npy"), str(tmp_path / "y.npy"), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    import json

    assert xentcli.score(P, Y).loss == json.loads(result.stdout)["loss"]


def test_a_binary_1d_array_is_p_positive() -> None:
    p = RNG.uniform(0.05, 0.95, 30)
    y = RNG.integers(0, 2, 30)
    assert xentcli.score(p, y).loss == pytest.approx(log_loss(y, p), rel=1e-12)
    assert xentcli.cross_entropy(p, pd.DataFrame({"y": y})).loss == pytest.approx(
        log_loss(y, p), rel=1e-12
    )


# -- per-sample ---------------------------------------------------------------------------


def test_per_sample_table_is_what_the_cli_writes(tmp_path: Path) -> None:
    preds = pd.DataFrame(P, columns=["cat", "dog", "fox"])
    labels = pd.DataFrame({"label": np.array(["cat", "dog", "fox"])[Y]})
    summary, rows = xentcli.score(preds, labels, per_sample=True)
    preds.to_csv(tmp_path / "p.csv", index=False)
    labels.to_csv(tmp_path / "l.csv", index=False)
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(
        cli, ["score", str(tmp_path / "p.csv"), str(tmp_path / "l.csv"), "--per-sample", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    written = pacsv.read_csv(out)
    assert rows.column_names == written.column_names == ["row", "label", "loss", "pred", "p_true"]
    for name in rows.column_names:
        assert rows.column(name).to_pylist() == written.column(name).to_pylist(), name
    assert summary.loss == pytest.approx(TRUE, rel=1e-12)
    assert rows.column("loss").to_pylist() == pytest.approx(-np.log(P[np.arange(40), Y]))


def test_per_sample_with_weights_and_ids() -> None:
    w = RNG.uniform(0.5, 2, 40)
    frame = pd.DataFrame(P, columns=["0", "1", "2"]).assign(id=[f"s{i}" for i in range(40)], w=w)
    labels = pd.DataFrame({"id": frame["id"][::-1].to_numpy(), "label": Y[::-1]})
    summary, rows = xentcli.score(frame, labels, id_col="id", weight_col="w", per_sample=True)
    assert rows.column_names == ["id", "label", "loss", "pred", "p_true", "weight"]
    assert rows.column("id").to_pylist() == frame["id"].tolist()
    assert rows.column("weight").to_pylist() == pytest.approx(w)
    # the row's own loss, weights not applied (SPEC "Outputs")
    assert rows.column("loss").to_pylist() == pytest.approx(-np.log(P[np.arange(40), Y]))
    assert summary.loss == pytest.approx(log_loss(Y, P, sample_weight=w), rel=1e-12)


def test_reduction_none_is_torch_reduction_none() -> None:
    logits = RNG.normal(size=(50, 4)) * 3
    y = RNG.integers(0, 4, 50)
    ours = xentcli.cross_entropy(logits, y, reduction="none")
    theirs = F.cross_entropy(torch.tensor(logits), torch.tensor(y), reduction="none").numpy()
    assert isinstance(ours, np.ndarray) and ours.shape == (50,)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    total = xentcli.cross_entropy(logits, y, reduction="sum").loss
    assert total == pytest.approx(float(theirs.sum()), rel=1e-12)


def test_reduction_none_ignored_rows_are_nan_where_torch_gives_0() -> None:
    logits = RNG.normal(size=(20, 3))
    y = RNG.integers(0, 3, 20)
    y[[2, 7]] = -100
    ours = xentcli.cross_entropy(logits, y, ignore_label=-100, reduction="none")
    theirs = F.cross_entropy(torch.tensor(logits), torch.tensor(y), reduction="none").numpy()
    assert np.isnan(ours[[2, 7]]).all() and (theirs[[2, 7]] == 0).all()
    keep = y != -100
    np.testing.assert_allclose(ours[keep], theirs[keep], rtol=1e-12)
    mean = F.cross_entropy(torch.tensor(logits), torch.tensor(y), ignore_index=-100).item()
    assert np.nanmean(ours) == pytest.approx(mean, rel=1e-12)


# -- notebook views -----------------------------------------------------------------------

NAMES = ["[cow] <b>", "a|b", "x_*y*"]


def _summary() -> xentcli.Summary:
    return xentcli.score(pd.DataFrame(P, columns=NAMES), pd.Series(np.array(NAMES)[Y]))


class _Cells(HTMLParser):
    """The text of every table cell and caption, as a browser shows it."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.captions: list[str] = []
        self._into: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("td", "th"):
            self._into = self.cells
            self.cells.append("")
        elif tag == "caption":
            self._into = self.captions
            self.captions.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "caption"):
            self._into = None

    def handle_data(self, data: str) -> None:
        if self._into is not None:
            self._into[-1] += data


def _parsed(html_text: str) -> _Cells:
    parser = _Cells()
    parser.feed(html_text)
    return parser


def test_class_names_are_escaped_exactly() -> None:
    summary = _summary()
    markdown = summary._repr_markdown_()
    assert "| \\[cow\\] \\<b\\> |" in markdown
    assert "| a\\|b |" in markdown
    assert "| x\\_\\*y\\*" in markdown
    page = summary._repr_html_()
    assert "<td>[cow] &lt;b&gt;</td>" in page and "<b>" not in page
    # as a reader sees them: CommonMark with GFM tables, and an HTML parser
    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    for cells in (_parsed(rendered).cells, _parsed(page).cells):
        assert [c for c in cells if c in NAMES] == NAMES


def test_headline_figures_and_per_class_agree_with_the_summary() -> None:
    summary = _summary()
    cells = _parsed(summary._repr_html_()).cells
    assert cells[cells.index("loss (mean, nats)") + 1] == f"{summary.loss:.6g}"
    assert cells[cells.index("accuracy") + 1] == f"{summary.accuracy:.6g}"
    for c in summary.per_class:
        at = cells.index(c.name)
        assert cells[at + 1 : at + 4] == [f"{c.n:,}", f"{c.mean_loss:.6g}", f"{c.accuracy:.6g}"]


def test_sections_appear_when_set_and_not_before() -> None:
    bare = dataclasses.replace(
        _summary(),
        baseline_loss=float("nan"),
        brier=float("nan"),
        ece=float("nan"),
        calibration=(),
        ci=None,
        slices=None,
        worst=None,
    )
    page = _parsed(bare._repr_html_())
    assert page.captions == ["Per class"]
    assert not {"baseline loss", "D²", "Brier", "ECE (15 bins)"} & set(page.cells)
    full = dataclasses.replace(
        bare,
        baseline_loss=1.0986,
        d2=0.25,
        normalized_entropy=0.75,
        brier=0.5,
        ece=0.125,
        mce=0.5,
        bins=2,
        calibration=(CalibrationBin(0, 0.5, 10, 0.375, 0.5), CalibrationBin(0.5, 1, 0, None, None)),
        ci=Interval(0.95, "bootstrap", (0.75, 1.25), (0.25, 0.5), 200, 7),
        slices=(
            SliceSummary("<region>", "eu|west", 30, 0.5, 0.75, 0.125),
            SliceSummary("<region>", None, 10, 2.0, 0.25, 0.5),
        ),
        worst=(WorstRow(3, None, "[cow] <b>", "a|b", 4.5, 0.0111),),
    )
    page = _parsed(full._repr_html_())
    assert page.captions == [
        "Per class",
        "Calibration (2 bins, 1 not empty)",
        "Slices",
        "Worst rows",
    ]
    cells = page.cells
    for name, text in [
        ("baseline loss", "1.0986"),
        ("D²", "0.25"),
        ("normalized entropy", "0.75"),
        ("Brier", "0.5"),
        ("ECE (2 bins)", "0.125"),
        ("MCE", "0.5"),
        ("loss 95% interval (bootstrap, 200 replicates, seed 7)", "[0.75, 1.25]"),
        ("accuracy 95% interval (bootstrap, 200 replicates, seed 7)", "[0.25, 0.5]"),
    ]:
        assert cells[cells.index(name) + 1] == text
    assert "[0, 0.5)" in cells and "[0.5, 1]" not in cells  # the empty bin is left out
    assert cells[cells.index("eu|west") - 1 : cells.index("eu|west") + 5] == [
        "<region>",
        "eu|west",
        "30",
        "0.5",
        "0.75",
        "0.125",
    ]
    assert "(null)" in cells
    assert cells[-5:] == ["3", "[cow] <b>", "a|b", "4.5", "0.0111"]
    markdown = full._repr_markdown_()
    assert "| \\<region\\> | eu\\|west | 30 | 0.5 | 0.75 | 0.125 |" in markdown
    assert "**Worst rows**" in markdown


def test_a_long_per_class_table_is_cut_saying_where_the_rest_is() -> None:
    k = 30
    probs = RNG.dirichlet(np.ones(k), 200)
    summary = xentcli.score(probs, RNG.integers(0, k, 200))
    markdown = summary._repr_markdown_()
    assert "and 10 more in Summary.per\\_class" in markdown
    assert "| 19 |" in markdown and "| 20 |" not in markdown


# -- __all__ -------------------------------------------------------------------------------


def test_all_names_the_public_door() -> None:
    from xentcli import summary

    assert {"CalibrationBin", "Interval", "SliceSummary", "WorstRow"} <= set(xentcli.__all__)
    for name in xentcli.__all__:
        assert hasattr(xentcli, name), name
    assert xentcli.WorstRow is summary.WorstRow and xentcli.Interval is summary.Interval
    namespace: dict[str, object] = {}
    exec("from xentcli import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(xentcli.__all__)


# -- errors about in-memory inputs -------------------------------------------------------

FRAME = pd.DataFrame(P[:4], columns=["a", "b", "c"])
CASES = {
    "labels that are no class": (
        lambda: xentcli.score(P[:4], ["x", "y", "z", "w"]),
        "labels row 0: label 'x' is not a class (classes: 0, 1, 2) (the class names are "
        "numbered 0, 1, 2: pass --label-type names if the labels are these numbers, or "
        "--classes for the class of each label index 0..2)",
    ),
    "lengths differ": (
        lambda: xentcli.score(P[:4], Y[:3]),
        "preds has 4 rows but labels has 3; rows are paired by position unless --id-col "
        "names a key column to join on",
    ),
    "lengths differ, cross_entropy": (
        lambda: xentcli.cross_entropy(P[:4], Y[:3]),
        "scores has 4 rows but labels has 3; they pair by position",
    ),
    "3-D": (
        lambda: xentcli.score(P[None], Y),
        "preds: has 3 dimensions (shape (1, 40, 3)); pass a 1-D array (one value per sample) "
        "or a 2-D array (one column per class)",
    ),
    "strings in scores": (
        lambda: xentcli.cross_entropy(np.array([["0.1", "x"], ["0.5", "0.5"]]), [0, 1]),
        "scores row 0, column '0': holds text ('0.1'), not numbers (pass the predictions as "
        "numbers, e.g. np.asarray(values, dtype=float))",
    ),
    "text among numbers": (
        lambda: xentcli.cross_entropy(np.array([[0.5, "x"], [0.2, 0.8]], dtype=object), [0, 1]),
        "scores row 1, column '1': holds float 0.8 among str values; a column holds numbers "
        "or text",
    ),
    "empty frame": (
        lambda: xentcli.score(FRAME.iloc[:0], pd.DataFrame({"y": []})),
        "preds: no rows to score (it has columns but no rows)",
    ),
    "NaN": (
        lambda: xentcli.score(FRAME.assign(b=[0.2, np.nan, 0.1, 0.3]), Y[:4]),
        "preds row 1, column 'b': prediction is empty or NaN; every prediction must be a "
        "finite number",
    ),
    "label out of range": (
        lambda: xentcli.score(FRAME, pd.DataFrame({"y": [0, 1, 2, 5]})),
        "labels row 3, column 'y': label 5 is neither a class name nor a class index 0..2 "
        "(classes: a, b, c)",
    ),
    "label out of range, 1-D": (
        lambda: xentcli.cross_entropy(P[:4], [0, 1, 2, -1]),
        "labels row 3: label -1 is neither a class name nor a class index 0..2 (classes: 0, "
        "1, 2) (pass --ignore-label -1 to leave rows labelled -1 out of every figure, or "
        "--drop-invalid)",
    ),
    "no usable columns": (
        lambda: xentcli.score(pd.DataFrame({"name": ["x", "y"], "note": ["u", "v"]}), [0, 1]),
        "preds: no numeric prediction columns (columns: name, note) (pass --pred-cols)",
    ),
    "labels of another shape": (
        lambda: xentcli.cross_entropy(P[:4], np.zeros((4, 2))),
        "labels: has shape (4, 2) for scores of shape (4, 3); pass one label per row, or one "
        "column per class",
    ),
    "not an input": (
        lambda: xentcli.score(5, Y),
        "preds: expected a path, '-', a pandas or polars DataFrame or Series, a pyarrow "
        "Table or Array, a NumPy array or a dict of columns, got int",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_in_memory_errors_name_the_argument(case: str) -> None:
    call, message = CASES[case]
    with pytest.raises(XentError) as caught:
        call()
    text = str(caught.value)
    assert text == message
    for word in ("file", "header", "line", "--no-header"):
        assert word not in text


def test_weights_errors_name_weights() -> None:
    with pytest.raises(XentError) as caught:
        xentcli.cross_entropy(P[:4], Y[:4], weights=[1.0, -1.0, 1.0, 1.0])
    assert str(caught.value).startswith("weights row 1: ")
    assert "file" not in str(caught.value)
