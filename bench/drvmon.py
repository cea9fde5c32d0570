#!/usr/bin/env python3
"""Watch dcs-drivers' output files (regress/tools/dcs-driver: "<ms> held
IP", "<ms> dropped IP" on stdout; "joined as" in the log on stderr) and
wait until the named drivers hold a pool of M IPs balanced: every IP held
by exactly one of them, each holding floor(M/N) or ceil(M/N).

    drvmon.py DIR M LIMIT_S NAME...

Prints one line, times in CLOCK_MONOTONIC ms (the drivers' clock;
T_BALANCED is the time of the last held/dropped line read, i.e. when
the balance was reached, or now if nothing changed):
    balanced T_BALANCED LAST_JOIN_SEEN HELD_LINES DROPPED_LINES
or "timeout HELD COUNTS..." and exits 1.  LAST_JOIN_SEEN is when this
monitor first saw the last "joined as" among NAMEs' logs (polled every
10 ms, so up to ~10 ms late), or 0 if none was new.  HELD_LINES and
DROPPED_LINES count the lines read since this monitor started (all the
files are read from their end at start, unless FROM_START=1)."""
import os
import sys
import time

d, m, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
names = sys.argv[4:]
n = len(names)
lo, hi = m // n, (m + n - 1) // n
from_start = os.environ.get("FROM_START") == "1"


class Tail:
    def __init__(self, path):
        self.path, self.buf = path, b""
        self.pos = 0
        if not from_start and os.path.exists(path):
            self.pos = os.path.getsize(path)

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return []
        self.pos += len(data)
        self.buf += data
        parts = self.buf.split(b"\n")
        self.buf = parts.pop()
        return parts


out = {x: Tail(os.path.join(d, x + ".out")) for x in names}
err = {x: Tail(os.path.join(d, x + ".err")) for x in names}
# who holds what, from the start of each file (state is cumulative)
held = {x: set() for x in names}
for x in names:
    t = Tail(os.path.join(d, x + ".out"))
    t.pos = 0
    for line in t.lines():
        w = line.split()
        if len(w) == 3 and w[1] == b"held":
            held[x].add(w[2])
        elif len(w) == 3 and w[1] == b"dropped":
            held[x].discard(w[2])
    out[x].pos = t.pos
    out[x].buf = t.buf
joined = {}
open(os.path.join(d, "mon.ready"), "w").write("ready\n")
nheld = ndropped = 0
last = 0
end = time.monotonic() + limit
while True:
    now = int(time.monotonic() * 1000)
    for x in names:
        for line in out[x].lines():
            w = line.split()
            if len(w) == 3 and w[1] == b"held":
                held[x].add(w[2])
                nheld += 1
                last = max(last, int(w[0]))
            elif len(w) == 3 and w[1] == b"dropped":
                held[x].discard(w[2])
                ndropped += 1
                last = max(last, int(w[0]))
        for line in err[x].lines():
            if b"joined as" in line:
                joined[x] = now
    counts = [len(held[x]) for x in names]
    total = sum(counts)
    if total == m and min(counts) >= lo and max(counts) <= hi:
        union = set()
        for x in names:
            union |= held[x]
        if len(union) == m:
            print("balanced %d %d %d %d" % (last or now, max(joined.values(), default=0),
                                            nheld, ndropped))
            sys.exit(0)
    if time.monotonic() > end:
        print("timeout %d %s" % (total, " ".join(map(str, counts))))
        sys.exit(1)
    time.sleep(0.01)
