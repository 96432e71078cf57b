"""How xent scales over cores and a Dask cluster, as whole processes (issue 14).

Run by hand (needs the dask extra):

    python bench/scaling.py                     # binary_10M, mc10_1M, mc10_2M; Parquet and CSV
    python bench/scaling.py --only mc10_2M --formats parquet --repeats 5

For each data set (written once into bench/data/ by bench/run.py's ``make_data``) it
runs ``xent score FILE --json`` with ``--jobs 1``, with ``--jobs`` = the machine's
cores, and with ``--engine dask`` (a local cluster of that many worker processes,
started and closed by xent: what one command pays), round-robin, and prints per run:
the median wall time, the speed-up over ``--jobs 1``, the peak RSS of the whole
process tree (client, Dask's nannies and workers; sampled every 20 ms from /proc) and
the loss, whose bits must agree across the rows (``same bits`` says so).
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import DATASETS, XENT, child_env, make_data  # noqa: E402

SAMPLE_SECONDS = 0.02


def tree_rss_kb(root: int) -> int:
    """The summed RSS of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak tree RSS (MB) and the loss's hex of one run."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = 0
    while child.poll() is None:
        peak = max(peak, tree_rss_kb(child.pid))
        time.sleep(SAMPLE_SECONDS)
    out, err = child.communicate()
    seconds = time.perf_counter() - start
    if child.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{err.decode()}")
    return seconds, peak / 1024, float(json.loads(out)["loss"]).hex()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=["binary_10M", "mc10_1M", "mc10_2M"])
    parser.add_argument("--formats", nargs="*", default=["parquet", "csv"])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--no-dask", action="store_true", help="skip the --engine dask rows")
    args = parser.parse_args()
    env = child_env(args.data / "pycache")
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    cores = len(os.sched_getaffinity(0))
    print(
        f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    runs = {"--jobs 1": ["--jobs", "1"], f"--jobs {cores}": ["--jobs", str(cores)]}
    if not args.no_dask:
        runs["--engine dask (local cluster)"] = ["--engine", "dask", "--jobs", str(cores)]
    for name in args.only:
        rows, classes = DATASETS[name]
        paths = make_data(args.data, name, rows, classes)
        for fmt in args.formats:
            path = paths[fmt]
            results: dict[str, list[tuple[float, float, str]]] = {label: [] for label in runs}
            for extra in runs.values():  # warm the page cache and the bytecode
                measured([*XENT, "score", str(path), "--json", *extra], env)
            for _ in range(args.repeats):
                for label, extra in runs.items():
                    argv = [*XENT, "score", str(path), "--json", *extra]
                    results[label].append(measured(argv, env))
            base = statistics.median(r[0] for r in results["--jobs 1"])
            losses = {r[2] for rs in results.values() for r in rs}
            print(f"{name} ({fmt}, {path.stat().st_size / 2**20:,.0f} MB)\n")
            print("| run | median s | speed-up | peak RSS MB (tree) | loss |")
            print("|---|---:|---:|---:|---|")
            for label, rs in results.items():
                t = statistics.median(r[0] for r in rs)
                rss = max(r[1] for r in rs)
                loss = float.fromhex(rs[-1][2])
                print(f"| {label} | {t:.2f} | {base / t:.2f}x | {rss:,.0f} | {loss!r} |")
            print(f"\nsame bits: {'yes' if len(losses) == 1 else 'NO: ' + str(losses)}\n")


if __name__ == "__main__":
    main()
