#!/usr/bin/env python3
"""PSS of a group of processes as if nothing else ran on the host.

    python3 bench/pss_alone.py PID...

The kernel's PSS divides each page among every process that maps it, so
it falls when other processes (another engineer's yaimd on a shared
machine) map the same libraries, and rises when they stop.  This reads
each process's page frames (/proc/PID/pagemap, root only) and divides
each page only among the given processes: the PSS they would have on a
host where nothing else maps those pages.  Prints, in kB, for each PID
and in total: that PSS, and the pages only that process maps (USS alone).
"""
import struct
import sys

PAGE = 4096


def frames(pid):
    """The page frame numbers of every present page of pid."""
    out = []
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/pagemap" % pid, "rb") as pm:
        for line in maps:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if line.split()[-1] == "[vsyscall]":
                continue
            pm.seek(lo // PAGE * 8)
            data = pm.read((hi - lo) // PAGE * 8)
            for (e,) in struct.iter_unpack("<Q", data):
                if e >> 63 & 1:			# present
                    pfn = e & ((1 << 55) - 1)
                    if pfn:
                        out.append(pfn)
    return out


def main():
    pids = [int(a) for a in sys.argv[1:]]
    per = {p: frames(p) for p in pids}
    count = {}
    for fl in per.values():
        for f in fl:
            count[f] = count.get(f, 0) + 1
    tp = tu = 0
    for p in pids:
        pss = sum(PAGE / count[f] for f in per[p]) / 1024
        uss = sum(PAGE for f in per[p] if count[f] == 1) / 1024
        tp += pss
        tu += uss
        print("%d\t%.0f\t%.0f" % (p, pss, uss))
    print("total\t%.0f\t%.0f" % (tp, tu))


if __name__ == "__main__":
    main()
