#!/usr/bin/env python3
"""TCP listener for regress: writes its port to a file, accepts (and
closes) connections; with --full it never accepts and fills its backlog
itself, so that further SYNs are dropped and a connect hangs.
usage: tcplisten.py PORTFILE [--bind ADDR] [--full]"""
import os
import socket
import sys
import time

portfile = sys.argv[1]
bind = "127.0.0.1"
if "--bind" in sys.argv:
    bind = sys.argv[sys.argv.index("--bind") + 1]
full = "--full" in sys.argv
fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.bind((bind, 0))
s.listen(0)
port = s.getsockname()[1]
keep = []
if full:
    # fill the accept queue: with backlog 0 Linux queues one, then drops
    for _ in range(4):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect((bind, port))
        except BlockingIOError:
            pass
        keep.append(c)
        time.sleep(0.05)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % port)
os.rename(portfile + ".tmp", portfile)
end = time.monotonic() + 600
while time.monotonic() < end:
    if full:
        time.sleep(0.5)
        continue
    c, _ = s.accept()
    c.close()
