# SPDX-License-Identifier: MIT
# Blocked time of subprocess.Popen from a parent holding MIB MiB of
# touched memory: runtimes.sh runs it with and without the preload.
#   python3 spawn.py TARGET N MIB   prints "p50_us p90_us p99_us"
import mmap
import subprocess
import sys
import time

target, n, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mem = None
if mib:
    mem = mmap.mmap(-1, mib << 20)
    mem.madvise(mmap.MADV_NOHUGEPAGE)
    for i in range(0, mib << 20, 4096):
        mem[i] = 1
v = []
for _ in range(n):
    t = time.perf_counter_ns()
    p = subprocess.Popen([target])
    v.append((time.perf_counter_ns() - t) / 1e3)
    if p.wait() != 0:
        sys.exit("child failed")
v.sort()
print("%.1f %.1f %.1f" % (v[n // 2], v[n * 9 // 10], v[n * 99 // 100]))
