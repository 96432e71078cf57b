"""The layout shows the flow (DESIGN.md): every import of every module, read with ``ast``
(those inside functions and under ``TYPE_CHECKING`` too), points down the flow only:
``cli -> run -> io / losses / metrics -> the root modules``; ``report`` reads the root
modules (a ``Summary``, an ``Inspection``) and ``io.outputs`` for stream targets;
``losses`` is NumPy and ``errors``/``options`` alone; ``metrics`` knows no files.
Each folder's ``__init__`` docstring says the same in words; a test holds them together.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import xentcli

PACKAGE = Path(xentcli.__file__).parent
ROOT = frozenset(("errors", "options", "summary", "version", "inspection", "comparison"))
FOLDERS = ("cli", "io", "losses", "metrics", "report", "run")

# What each part may import of the package: folders by name, root modules by name,
# single modules by dotted name. Its own folder is always allowed.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "cli": frozenset(("run", "io", "losses", "metrics", "report", *ROOT)),
    "run": frozenset(("io", "losses", "metrics", *ROOT)),
    "io": frozenset(("errors", "options", "summary")),
    "losses": frozenset(("errors", "options")),
    "metrics": frozenset(("losses", *ROOT)),
    "report": frozenset((*ROOT, "io.outputs")),
    # the root modules: the shared types, below everything
    "errors": frozenset(),
    "version": frozenset(),
    "inspection": frozenset(),
    "options": frozenset(("errors",)),
    "summary": frozenset(("errors", "options", "version")),
    "comparison": frozenset(("summary",)),
}

# Libraries that belong to one part only (None: the standard library and these).
ONLY_IN = {
    "click": ("cli",),
    "rich": ("cli", "report"),
    "pandas": ("io.tableread",),  # frames handed in; never on the scoring path
    "wandb": ("report.trackers",),  # extras, imported only on the path of --log
    "mlflow": ("report.trackers",),
    "matplotlib": ("report.figures",),  # the extra xentcli[plot], for figures only
}
LOSSES_LIBRARIES = frozenset(("numpy",))


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def dotted(path: Path) -> str:
    """``run/align/plan.py`` -> ``run.align.plan``; ``run/__init__.py`` -> ``run``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports, as dotted names inside the package (``run.align``)
    or ``"<ext>:name"`` outside it, with the line."""
    name = dotted(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "":
        package = []
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                inside = top == "xentcli"
                target = alias.name.removeprefix("xentcli.") if inside else f"<ext>:{top}"
                found.append((target, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                module = node.module or ""
                if module == "xentcli" or module.startswith("xentcli."):
                    base = module.removeprefix("xentcli").lstrip(".")
                    found.extend(_from(base, node))
                else:
                    found.append((f"<ext>:{module.split('.')[0]}", node.lineno))
            else:
                up = package[: len(package) - (node.level - 1)]
                assert len(up) == len(package) - (node.level - 1), (path, node.lineno)
                base = ".".join([*up, *([node.module] if node.module else [])])
                found.extend(_from(base, node))
    return found


def _from(base: str, node: ast.ImportFrom) -> list[tuple[str, int]]:
    """``from base import a, b``: each name is a module when it is one, else ``base``."""
    out = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}" if base else alias.name
        is_module = (PACKAGE / candidate.replace(".", "/")).with_suffix(".py").exists() or (
            PACKAGE / candidate.replace(".", "/") / "__init__.py"
        ).exists()
        out.append((candidate if is_module else base, node.lineno))
    return out


def part(name: str) -> str:
    """The part of the layout a module belongs to: its folder, or its root module."""
    return name.split(".")[0]


# The imports against the flow, lazily inside the two methods a notebook calls to show
# a Summary or a Comparison: the view lives with the other reports, the hook on the type.
NOTEBOOK_VIEWS = frozenset((("summary", "report.notebook"), ("comparison", "report.compare")))


def allowed(importer: str, target: str) -> bool:
    if (importer, target) in NOTEBOOK_VIEWS:
        return True
    here, there = part(importer), part(target)
    if here == there and here in FOLDERS:
        return True
    rules = MAY_IMPORT[here]
    return there in rules or target in rules


PAIRS = [
    (dotted(p), target, line, p)
    for p in modules()
    if dotted(p) not in ("", "__main__")  # the public door and `python -m` sit above all
    for target, line in imports(p)
]


def test_the_walk_sees_the_imports_it_must() -> None:
    """The parser is not vacuous: it resolves relative imports, imports inside functions
    and under TYPE_CHECKING, and names modules imported with ``from . import``."""
    found = {(i, t) for i, t, _, _ in PAIRS}
    assert ("run.pipeline", "run.align") in found  # from .align import ...
    assert ("run.align.plan", "run.roles") in found  # from ..roles import ...
    assert ("run.inspect", "run.roles") in found  # from . import roles
    assert ("cli.score", "io.persample") in found  # inside a function
    assert ("report.table", "inspection") in found  # under TYPE_CHECKING
    assert ("report.formats", "io.outputs") in found
    assert ("losses.core", "<ext>:numpy") in found
    assert len({i for i, _, _, _ in PAIRS}) >= 40


def test_every_part_has_its_rule() -> None:
    parts = {part(i) for i, _, _, _ in PAIRS}
    assert parts <= set(MAY_IMPORT), parts - set(MAY_IMPORT)
    assert set(FOLDERS) <= parts


def test_imports_point_down_the_flow() -> None:
    wrong = [
        f"{p.relative_to(PACKAGE.parent)}:{line} imports {target}"
        for importer, target, line, p in PAIRS
        if not target.startswith("<ext>:") and not allowed(importer, target)
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("library", sorted(ONLY_IN))
def test_a_library_stays_in_its_part(library: str) -> None:
    homes = ONLY_IN[library]
    wrong = [
        f"{importer} (line {line})"
        for importer, target, line, _ in PAIRS
        if target == f"<ext>:{library}"
        and not any(importer == h or importer.startswith(f"{h}.") for h in homes)
    ]
    assert not wrong, f"{library} outside {homes}: {wrong}"


def test_losses_is_numpy_and_the_standard_library() -> None:
    stdlib = sys.stdlib_module_names
    wrong = [
        f"{importer} imports {target[6:]}"
        for importer, target, _, _ in PAIRS
        if part(importer) == "losses"
        and target.startswith("<ext>:")
        and target[6:] not in stdlib
        and target[6:] not in LOSSES_LIBRARIES
    ]
    assert not wrong, wrong


def test_metrics_knows_no_files() -> None:
    """No reader or writer, and nothing of the file system."""
    wrong = [
        f"{importer} imports {target}"
        for importer, target, _, _ in PAIRS
        if part(importer) == "metrics"
        and (part(target) == "io" or target in ("<ext>:os", "<ext>:pathlib", "<ext>:shutil"))
    ]
    assert not wrong, wrong


def test_root_modules_import_no_folder() -> None:
    wrong = [
        f"{importer} imports {target}"
        for importer, target, _, _ in PAIRS
        if importer in ROOT and part(target) in FOLDERS and (importer, target) not in NOTEBOOK_VIEWS
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("folder", [f for f in FOLDERS if f != "cli"])
def test_each_folder_says_its_job_and_what_it_may_import(folder: str) -> None:
    """The docstring says what the folder may import, naming each folder (and single
    module) the rule allows; the root modules may be named together. (``cli``, at the
    top, may import every part.)"""
    doc = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text()))
    assert doc is not None, folder
    text = " ".join(doc.split())
    assert "May import" in text, folder
    said = text[text.index("May import") :]
    for target in sorted(MAY_IMPORT[folder] - ROOT):
        assert f"``{target}``" in said, (folder, target)
    assert "root" in said or all(f"``{r}``" in said for r in MAY_IMPORT[folder] & ROOT), folder
