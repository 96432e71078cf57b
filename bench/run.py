"""Benchmark xent against the snippets people write by hand, as whole processes.

Run by hand (needs the test extra: scikit-learn and torch):

    python bench/run.py                 # every data set, 3 repeats
    python bench/run.py --quick         # data sets a tenth of the size, 2 repeats
    python bench/run.py --only mc10_1M  # one data set
    python bench/run.py --figures       # the evaluation figures' rows on mc10_1M
    python bench/run.py --compare       # xent compare's paired mode on mc10_1M
    python bench/run.py --startup       # xent score on 1,000 rows against the imports alone

It writes the data sets once into bench/data/ (float32 logits and an int64 label, as
Parquet and CSV), runs each tool once to warm the page cache, then round-robin
``--repeats`` times, and prints a table per data set: median wall time, the ratio of
each tool's time to xent's in the same run, the peak RSS of the child (from its own
rusage) and the loss each printed, which must agree. Then the import times.

``--figures`` runs only xent on mc10_1M Parquet, plain and with each costly figure
(``--bootstrap 200``, ``--by`` a column of 100 values, ``--worst 100``), and prints each
row's wall time, its cost over the plain row and its peak RSS. The old code against the
new is bench/before_after.py.

``--compare`` writes a second model's logits for mc10_1M (the first's plus noise, same
labels) and times ``xent compare BASE NEW --json`` (paired mode, one pass over both
files) next to the two ``xent score`` runs it replaces, with each one's peak RSS.

``--startup`` times whole processes on a 1,000-row Parquet file (ten float32 columns,
an int64 label), where the time is the start: ``xent score FILE -q`` (and ``--json``,
and ``xent --version``) against ``python -c "import numpy, pyarrow.parquet"``, the
libraries any script that reads the file imports; round-robin, ``--repeats`` rounds
(at least 20), the median of each and its ratio to the imports alone (issue 14's
target: within 1.3x). The same row closes the import table of a full run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
PYTHON = sys.executable
XENT = [PYTHON, "-m", "xentcli"]
DATASETS = {  # name: (rows, classes); classes == 1 is binary
    "binary_10M": (10_000_000, 1),
    "mc10_1M": (1_000_000, 10),
    "mc10_2M": (2_000_000, 10),
    "mc1000_200k": (200_000, 1000),
}
TOOLS = ("xent", "pandas+sklearn", "pyarrow+torch", "pyarrow+numpy")


@dataclass
class Run:
    seconds: float
    rss_mb: float
    loss: float


def make_data(folder: Path, name: str, rows: int, classes: int) -> dict[str, Path]:
    """Write the data set as Parquet and CSV (once) and return both paths."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    paths = {"parquet": folder / f"{name}.parquet", "csv": folder / f"{name}.csv"}
    if all(p.exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    width = max(classes, 1)
    columns: dict[str, object] = {}
    for j in range(width):
        columns["logit" if classes == 1 else f"c{j}"] = rng.normal(0, 2, rows).astype(np.float32)
    columns["label"] = rng.integers(0, 2 if classes == 1 else classes, rows)
    table = pa.table(columns)
    pq.write_table(table, paths["parquet"])
    pacsv.write_csv(table, paths["csv"])
    return paths


def make_group_labels(parquet: Path, groups: int = 100) -> Path:
    """Write (once) a LABELS file beside ``parquet``: its label and an int64 ``group`` column.

    The bench's data has no column worth slicing by, so ``--by group`` reads it from LABELS;
    the label is the PREDS file's own, so the two label columns agree row by row.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = parquet.with_name(f"{parquet.stem}_labels_group{groups}.parquet")
    if path.exists():
        return path
    label = pq.read_table(parquet, columns=["label"]).column("label")
    group = np.random.default_rng(1).integers(0, groups, len(label))
    pq.write_table(pa.table({"label": label, "group": group}), path)
    return path


def make_second_model(parquet: Path) -> Path:
    """Write (once) a second model's predictions beside ``parquet``: its logits plus
    Gaussian noise (sd 1), float32, the same ``label`` column."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = parquet.with_name(f"{parquet.stem}_new.parquet")
    if path.exists():
        return path
    table = pq.read_table(parquet)
    rng = np.random.default_rng(2)
    columns = {
        name: (
            table.column(name)
            if name == "label"
            else pa.array(
                table.column(name).to_numpy() + rng.normal(0, 1, table.num_rows).astype(np.float32)
            )
        )
        for name in table.column_names
    }
    pq.write_table(pa.table(columns), path)
    return path


def compare_rows(folder: Path, quick: bool, repeats: int, env: dict[str, str]) -> str:
    """``xent compare`` in paired mode against the two ``xent score`` runs it replaces."""
    rows, classes = DATASETS["mc10_1M"]
    name = "mc10_1M_quick" if quick else "mc10_1M"
    if quick:
        rows //= 10
    base = make_data(folder, name, rows, classes)["parquet"]
    new = make_second_model(base)
    commands = {
        "xent score BASE": [*XENT, "score", str(base), "--json"],
        "xent score NEW": [*XENT, "score", str(new), "--json"],
        "xent compare BASE NEW": [*XENT, "compare", str(base), str(new), "--json"],
    }
    for argv in commands.values():  # warm the page cache and the imports
        _report(argv, env)
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for _ in range(repeats):
        for label, argv in commands.items():
            runs[label].append(_measured(argv, env))
    medians = {label: statistics.median(t for t, _ in row) for label, row in runs.items()}
    both = medians["xent score BASE"] + medians["xent score NEW"]
    lines = [
        f"{name} (parquet, two models), {repeats} repeats round-robin, xentcli from "
        f"{imported_xentcli(env)}",
        "",
        "| run | median s | min s | × two score runs | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, row in runs.items():
        lines.append(
            f"| {label} | {medians[label]:.2f} | {min(t for t, _ in row):.2f} | "
            f"{medians[label] / both:.2f} | {max(r for _, r in row):,.0f} |"
        )
    lines.append(f"| the two score runs | {both:.2f} | | 1.00 | |")
    return "\n".join(lines)


def _measured(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child, through measure.py."""
    done = subprocess.run([PYTHON, str(HERE / "measure.py"), *argv], capture_output=True, env=env)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.decode()}")
    measured = json.loads(done.stderr.decode().strip().splitlines()[-1])
    return measured["seconds"], measured["rss_kb"] / 1024


def command(tool: str, path: Path, kind: str) -> list[str]:
    if tool == "xent":
        return [*XENT, "score", str(path), "--json"]
    script = {
        "pandas+sklearn": "pandas_sklearn.py",
        "pyarrow+torch": "arrow_torch.py",
        "pyarrow+numpy": "arrow_numpy.py",
    }[tool]
    return [PYTHON, str(PEERS / script), str(path), kind]


def child_env(bytecode: Path | None) -> dict[str, str]:
    """The environment every tool runs in. The machine's OPENBLAS_CORETYPE/L2_SIZE slow a
    current NumPy: unset for every tool alike. With ``bytecode`` (a folder), children
    cache their bytecode there, as an installed xent has its ``.pyc`` files: without it
    (PYTHONDONTWRITEBYTECODE set), every run compiles each module it imports anew."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    if bytecode is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    return env


def run_child(argv: list[str], env: dict[str, str]) -> Run:
    """Run one whole process through measure.py, which reports its time and peak RSS."""
    done = subprocess.run([PYTHON, str(HERE / "measure.py"), *argv], capture_output=True, env=env)
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.decode()}")
    measured = json.loads(done.stderr.decode().strip().splitlines()[-1])
    text = done.stdout.decode().strip()
    loss = json.loads(text)["loss"] if text.startswith("{") else float(text.splitlines()[-1])
    return Run(measured["seconds"], measured["rss_kb"] / 1024, float(loss))


def bench(
    paths: dict[str, Path], kind: str, repeats: int, env: dict[str, str]
) -> dict[str, dict[str, list[Run]]]:
    results: dict[str, dict[str, list[Run]]] = {}
    for fmt, path in paths.items():
        runs: dict[str, list[Run]] = {tool: [] for tool in TOOLS}
        for tool in TOOLS:  # warm the page cache and the imports
            run_child(command(tool, path, kind), env)
        for _ in range(repeats):
            for tool in TOOLS:
                runs[tool].append(run_child(command(tool, path, kind), env))
        results[fmt] = runs
    return results


def table(name: str, fmt: str, runs: dict[str, list[Run]], size_mb: float) -> str:
    base = statistics.median(r.seconds for r in runs["xent"])
    lines = [
        f"{name} ({fmt}, {size_mb:,.0f} MB)",
        "",
        "| tool | median s | × xent's time | peak RSS MB | loss |",
        "|---|---:|---:|---:|---|",
    ]
    for tool in TOOLS:
        t = statistics.median(r.seconds for r in runs[tool])
        rss = max(r.rss_mb for r in runs[tool])
        loss = runs[tool][-1].loss
        lines.append(f"| {tool} | {t:.2f} | {t / base:.2f} | {rss:,.0f} | {loss:.10g} |")
    return "\n".join(lines)


def figure_rows(parquet: Path) -> dict[str, list[str]]:
    """The xent commands of the figures bench: plain, then one costly figure each."""
    plain = [*XENT, "score", str(parquet), "--json"]
    return {
        "xent": plain,
        "xent --bootstrap 200": [*plain, "--bootstrap", "200"],
        "xent LABELS --by group (100 values)": [
            *XENT,
            "score",
            str(parquet),
            str(make_group_labels(parquet)),
            "--json",
            "--by",
            "group",
        ],
        "xent --worst 100": [*plain, "--worst", "100"],
    }


def check_figures(name: str, report: dict[str, object], rows: int) -> None:
    """Refuse a figures row whose report lacks what it was asked for (a bench of a no-op)."""
    ci, slices, worst = report.get("ci"), report.get("slices"), report.get("worst")
    if "bootstrap" in name:
        ok = isinstance(ci, dict) and ci.get("replicates") == 200
    elif "--by" in name:
        ok = isinstance(slices, list) and len(slices) == 100 and sum(s["n"] for s in slices) == rows
    elif "worst" in name:
        ok = isinstance(worst, list) and len(worst) == 100
    else:
        ok = not ci and not slices and not worst
    if not ok:
        raise SystemExit(f"{name}: the report does not hold the figure asked for")


def imported_xentcli(env: dict[str, str]) -> str:
    """The file ``import xentcli`` finds in a child with ``env``."""
    return subprocess.run(
        [PYTHON, "-c", "import xentcli; print(xentcli.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()


def figures(folder: Path, quick: bool, repeats: int, env: dict[str, str]) -> str:
    """Time xent with each costly figure against plain xent on mc10_1M Parquet."""
    rows, classes = DATASETS["mc10_1M"]
    name = "mc10_1M"
    if quick:
        rows //= 10
        name = f"{name}_quick"
    parquet = make_data(folder, name, rows, classes)["parquet"]
    commands = figure_rows(parquet)
    where = imported_xentcli(env)
    for label, argv in commands.items():  # warm the page cache and the imports; check once
        check_figures(label, _report(argv, env), rows)
    runs: dict[str, list[Run]] = {label: [] for label in commands}
    for _ in range(repeats):
        for label, argv in commands.items():
            runs[label].append(run_child(argv, env))
    base = statistics.median(r.seconds for r in runs["xent"])
    lines = [
        f"{name} (parquet, {parquet.stat().st_size / 2**20:,.0f} MB), {repeats} repeats "
        f"round-robin, xentcli from {where}",
        "",
        "| xent run | median s | min s | × plain xent | peak RSS MB | loss |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, row in runs.items():
        t = statistics.median(r.seconds for r in row)
        lines.append(
            f"| {label} | {t:.2f} | {min(r.seconds for r in row):.2f} | {t / base:.2f} | "
            f"{max(r.rss_mb for r in row):,.0f} | {row[-1].loss:.10g} |"
        )
    losses = {r.loss for row in runs.values() for r in row}
    if len(losses) != 1:
        raise SystemExit(f"the figures rows disagree on the loss: {sorted(losses)}")
    return "\n".join(lines)


def _report(argv: list[str], env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(argv, capture_output=True, env=env)
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.decode()}")
    return json.loads(done.stdout)


STARTUP_BASE = [PYTHON, "-c", "import numpy, pyarrow.parquet"]


def startup(folder: Path, repeats: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall seconds of each start-up command on a 1,000-row Parquet file, run
    round-robin ``repeats`` times after one warm-up round."""
    parquet = make_data(folder, "startup_1k", 1000, 10)["parquet"]
    commands = {
        '`python -c "import numpy, pyarrow.parquet"`': STARTUP_BASE,
        "`xent score startup_1k.parquet -q`": [*XENT, "score", str(parquet), "-q"],
        "`xent score startup_1k.parquet --json`": [*XENT, "score", str(parquet), "--json"],
        "`xent --version`": [*XENT, "--version"],
    }
    times: dict[str, list[float]] = {label: [] for label in commands}
    for argv in commands.values():
        _timed(argv, env)
    for _ in range(repeats):
        for label, argv in commands.items():
            times[label].append(_timed(argv, env))
    return {label: statistics.median(t) for label, t in times.items()}


def startup_table(folder: Path, repeats: int, env: dict[str, str]) -> str:
    """The start-up commands' medians and their ratios to the imports alone."""
    medians = startup(folder, repeats, env)
    base = next(iter(medians.values()))
    lines = [
        f"start-up on 1,000 rows, {repeats} rounds round-robin (median wall time)",
        "",
        "| command | median s | × the imports alone |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {t:.3f} | {t / base:.2f} |" for label, t in medians.items()]
    return "\n".join(lines)


def import_times(env: dict[str, str], folder: Path) -> str:
    """Wall time of ``xent --version``, the imports of the score path (-X importtime)
    and the start-up ratio: ``xent score`` on 1,000 rows against the imports alone."""
    tiny = make_data(folder, "tiny", 100, 10)
    version = statistics.median(_timed([*XENT, "--version"], env) for _ in range(7))
    medians = startup(folder, 9, env)
    base, score_q = list(medians.values())[:2]
    rows = []
    for fmt, path in tiny.items():
        done = subprocess.run(
            [PYTHON, "-X", "importtime", "-m", "xentcli", "score", str(path), "-q"],
            capture_output=True,
            text=True,
            env=env,
        )
        top = [
            line
            for line in done.stderr.splitlines()
            if line.startswith("import time:")
            and line.split("|")[-1].startswith(" ")
            and not line.split("|")[-1].startswith("  ")
        ]
        total = sum(int(line.split("|")[1]) for line in top if line.split("|")[1].strip().isdigit())
        pandas = any(line.split("|")[-1].strip() == "pandas" for line in done.stderr.splitlines())
        rows.append(
            f"| imports of `score` ({fmt}) | {total / 1e6:.3f} s | pandas loaded: "
            f"{'yes' if pandas else 'no'} |"
        )
    return "\n".join(
        [
            "| what | time | |",
            "|---|---:|---|",
            f"| `xent --version`, whole process | {version:.3f} s | |",
            *rows,
            f"| startup: `xent score` 1,000 rows `-q` | {score_q:.3f} s | "
            f"{score_q / base:.2f}x `import numpy, pyarrow.parquet` ({base:.3f} s) |",
        ]
    )


def in_process(folder: Path, quick: bool) -> str:
    """The kernel against one np.exp pass, and scoring a CSV against read_csv + kernel."""
    import numpy as np
    import pyarrow.csv as pacsv

    import xentcli
    from xentcli.losses import core

    rows = 100_000 if quick else 1_000_000
    rng = np.random.default_rng(0)
    logits = np.asfortranarray(rng.normal(0, 2, size=(rows, 10)).astype(np.float32))
    labels = rng.integers(0, 10, rows)
    kernel = _best(lambda: core.multiclass_from_logits(logits, labels))
    one_exp = _best(lambda: np.exp(logits))
    name = "mc10_1M_quick" if quick else "mc10_1M"
    path = make_data(folder, name, rows, 10)["csv"]

    def by_hand() -> None:
        table = pacsv.read_csv(path)
        block = np.column_stack([table.column(f"c{j}").to_numpy() for j in range(10)])
        core.multiclass_from_logits(block, table.column("label").to_numpy())

    scored = _best(lambda: xentcli.score(str(path)))
    hand = _best(by_hand)
    return "\n".join(
        [
            "| in process | time | figure |",
            "|---|---:|---|",
            f"| kernel, {rows:,} x 10 float32 logits | {kernel:.3f} s | "
            f"{rows / kernel / 1e6:.1f} Mrows/s, {kernel / one_exp:.1f}x one np.exp pass "
            f"({one_exp:.3f} s) |",
            f"| xentcli.score on {path.name} | {scored:.3f} s | "
            f"{scored / hand:.2f}x pyarrow read_csv + kernel ({hand:.3f} s) |",
        ]
    )


def _best(work: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="data sets a tenth of the size")
    parser.add_argument("--only", nargs="*", choices=sorted(DATASETS), help="these data sets")
    parser.add_argument("--formats", nargs="*", default=["parquet", "csv"])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument(
        "--figures",
        action="store_true",
        help="only xent on mc10_1M Parquet, plain and with --bootstrap, --by, --worst",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="only xent compare's paired mode on mc10_1M Parquet against two score runs",
    )
    parser.add_argument(
        "--startup",
        action="store_true",
        help="only xent score on 1,000 rows against python -c 'import numpy, pyarrow.parquet'",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="children compile every module each run (as PYTHONDONTWRITEBYTECODE makes them)",
    )
    args = parser.parse_args()
    env = child_env(None if args.no_bytecode_cache else args.data / "pycache")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}, load "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, bytecode "
        f"{'compiled each run' if args.no_bytecode_cache else 'cached'}\n"
    )
    if args.figures:
        print(figures(args.data, args.quick, args.repeats, env))
        return
    if args.compare:
        print(compare_rows(args.data, args.quick, args.repeats, env))
        return
    if args.startup:
        print(startup_table(args.data, max(args.repeats, 20), env))
        return
    for name, (rows, classes) in DATASETS.items():
        if args.only and name not in args.only:
            continue
        if args.quick:
            rows //= 10
            name = f"{name}_quick"
        paths = make_data(args.data, name, rows, classes)
        paths = {fmt: p for fmt, p in paths.items() if fmt in args.formats}
        kind = "binary" if classes == 1 else "multiclass"
        results = bench(paths, kind, args.repeats, env)
        for fmt, runs in results.items():
            print(table(name, fmt, runs, paths[fmt].stat().st_size / 2**20), "\n", flush=True)
    print(import_times(env, args.data), "\n")
    print(in_process(args.data, args.quick))


if __name__ == "__main__":
    main()
