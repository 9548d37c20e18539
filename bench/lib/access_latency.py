#!/usr/bin/env python3
"""Server-side latency from a Parley access log: the duration_ms of each access line (from the
request's first byte to the last byte of the answer, as the service measured it) for the paths that
start with PREFIX, from line FROM on. wrk's figures add the client and the machine's stalls; these are
the service's own.   access_latency.py LOG FROM PREFIX"""
import re
import sys

log, first, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pattern = re.compile(r" path=(\S+) .*duration_ms=([0-9.]+)")
durations = []
with open(log, errors="replace") as f:
    for i, line in enumerate(f):
        if i < first or " access " not in line:
            continue
        m = pattern.search(line)
        if m and m.group(1).startswith(prefix):
            durations.append(float(m.group(2)))
if not durations:
    print("server-side: no access lines")
    sys.exit(0)
durations.sort()
n = len(durations)


def at(q):
    return durations[min(n - 1, int(q * n))]


print(f"server-side (access log, {n} requests): p50 {at(0.5):.2f} ms, p90 {at(0.9):.2f} ms, "
      f"p99 {at(0.99):.2f} ms, p99.9 {at(0.999):.2f} ms, max {durations[-1]:.2f} ms")
