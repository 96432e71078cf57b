"""Time plain ``xent score FILE --json`` with an old tree against a new one, in one session.

    git worktree add --detach ../before 5d20565
    python bench/before_after.py --before ../before            # new: this tree
    python bench/before_after.py --before ../before --after . --repeats 9

PYTHONPATH decides which xentcli a child imports, so the children run in an empty
directory (``python -m`` puts the working directory first on the path, ahead of
PYTHONPATH); each tree's import is checked before timing.
Children cache their bytecode in a folder of their own (PYTHONPYCACHEPREFIX), as an
installed xent has its ``.pyc`` files; ``--no-bytecode-cache`` makes them compile every
module on every run instead (what PYTHONDONTWRITEBYTECODE does), which costs the tree
with more code more. Every file is run once per tree to warm the page cache and write the
bytecode, then the trees alternate round-robin ``--repeats`` times (old, new, old, new,
...) so load that drifts falls on both alike. The table gives each tree's median and min
wall time, new / old, the peak RSS and the loss, which must be the same in both trees.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    DATASETS,
    XENT,
    Run,
    child_env,
    imported_xentcli,
    make_data,
    run_child,
)

HERE = Path(__file__).resolve().parent


def tree_env(tree: Path, base: dict[str, str]) -> dict[str, str]:
    """The environment whose ``import xentcli`` is ``tree``'s, checked, not assumed."""
    env = {**base, "PYTHONPATH": str(tree)}
    found = imported_xentcli(env)
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"PYTHONPATH={tree} imports xentcli from {found}")
    return env


def commit(tree: Path) -> str:
    """The tree's short HEAD, with '+' when it has changes not committed."""
    head = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(tree), "status", "--porcelain", "--", "xentcli"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return head + ("+" if dirty else "")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def compare(path: Path, trees: dict[str, dict[str, str]], repeats: int) -> dict[str, list[Run]]:
    argv = [*XENT, "score", str(path), "--json"]
    for env in trees.values():  # warm the page cache and the imports
        run_child(argv, env)
    runs: dict[str, list[Run]] = {name: [] for name in trees}
    for _ in range(repeats):
        for name, env in trees.items():
            runs[name].append(run_child(argv, env))
    return runs


def table(runs: dict[str, dict[str, list[Run]]]) -> str:
    lines = [
        "| file | old median s | new median s | new / old | old min s | new min s "
        "| old RSS MB | new RSS MB | loss |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, by_tree in runs.items():
        old, new = by_tree["old"], by_tree["new"]
        losses = {r.loss for r in old + new}
        if len(losses) != 1:
            raise SystemExit(f"{name}: the trees disagree on the loss: {sorted(losses)}")
        mo = statistics.median(r.seconds for r in old)
        mn = statistics.median(r.seconds for r in new)
        lines.append(
            f"| {name} | {mo:.2f} | {mn:.2f} | {mn / mo:.2f} | "
            f"{min(r.seconds for r in old):.2f} | {min(r.seconds for r in new):.2f} | "
            f"{max(r.rss_mb for r in old):,.0f} | {max(r.rss_mb for r in new):,.0f} | "
            f"{losses.pop():.10g} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the old tree")
    parser.add_argument("--after", type=Path, default=HERE.parent, help="the new tree")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", nargs="*", default=["mc10_1M", "binary_10M"])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="children compile every module each run (as PYTHONDONTWRITEBYTECODE makes them)",
    )
    args = parser.parse_args()
    before, after, data = (p.resolve() for p in (args.before, args.after, args.data))
    with tempfile.TemporaryDirectory() as empty:
        os.chdir(empty)  # no xentcli here: PYTHONPATH alone picks the tree
        bytecode = None if args.no_bytecode_cache else Path(empty) / "pycache"
        run_trees(before, after, data, args.only, args.repeats, bytecode)


def run_trees(
    before: Path, after: Path, data: Path, only: list[str], repeats: int, bytecode: Path | None
) -> None:
    # As bench/run.py: the same environment for both trees, bytecode cached (as installed)
    # unless --no-bytecode-cache; the warm-up run of each tree writes its cache.
    base = child_env(bytecode)
    trees = {"old": tree_env(before, base), "new": tree_env(after, base)}
    print(
        f"old: {before} at {commit(before)}; new: {after} at {commit(after)}; "
        f"{repeats} repeats round-robin, Parquet; bytecode "
        f"{'cached' if bytecode is not None else 'compiled each run'}; load before {load()}",
        flush=True,
    )
    runs = {}
    for name in only:
        rows, classes = DATASETS[name]
        path = make_data(data, name, rows, classes)["parquet"]
        runs[f"{name}.parquet"] = compare(path, trees, repeats)
    print(f"load after {load()}\n")
    print(table(runs))


if __name__ == "__main__":
    main()
