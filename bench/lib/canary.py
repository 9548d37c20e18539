#!/usr/bin/env python3
"""Wake-up lateness of this machine: sleeps 1 ms at a time for SECONDS and reports how often the
wake-up came more than 2 ms late, and the worst. Run beside a benchmark, it tells a stall of the
whole machine (a virtual CPU that did not run; every process sees it) from one of the service
(only the service's requests see it).   canary.py SECONDS"""
import sys
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
end = time.monotonic() + seconds
late, worst, n = 0, 0.0, 0
while True:
    a = time.monotonic()
    if a >= end:
        break
    time.sleep(0.001)
    over = (time.monotonic() - a - 0.001) * 1000.0
    n += 1
    worst = max(worst, over)
    if over > 2.0:
        late += 1
print(f"machine: {n} wake-ups, {late} more than 2 ms late, worst {worst:.1f} ms late")
