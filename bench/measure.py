"""Run a command and print its wall time and its own peak RSS, as JSON on stderr.

A child's peak RSS on Linux starts from its parent's at fork, so the benchmark
runs every tool through this small process rather than from itself (which holds
the generated data): ``python bench/measure.py CMD ...``.
"""

import json
import os
import sys
import time

start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_pid, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
print(
    json.dumps(
        {"seconds": seconds, "rss_kb": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}
    ),
    file=sys.stderr,
)
sys.exit(os.waitstatus_to_exitcode(status))
