#!/usr/bin/env python3
"""A stand-in for the service manager's notification socket: bind an
AF_UNIX datagram socket (a path, or an abstract name given as @name) and
append each datagram to OUT on one line, its newlines shown as '|'.
Exits after SECONDS (default 60), so that it never outlives its test."""
import socket
import sys
import time

name, out = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
s.settimeout(0.2)
end = time.monotonic() + limit
with open(out + ".ready", "w"):
    pass
while time.monotonic() < end:
    try:
        msg = s.recv(4096)
    except socket.timeout:
        continue
    with open(out, "a") as f:
        f.write(msg.decode(errors="replace").replace("\n", "|") + "\n")
