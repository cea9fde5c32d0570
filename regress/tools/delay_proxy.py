#!/usr/bin/env python3
"""A TCP proxy in front of one etcd for regress: it forwards everything
as it comes, except that while the file HOLDFILE exists, an HTTP request
whose body holds a delete ("request_delete_range": the release of a mark)
waits SECONDS before it goes on to etcd.  The client has given up on it
by then (etcd-timeout) and closed the connection; etcd still applies it
later, as a real etcd can a request that timed out.  Each held request is
logged to stderr as "held N" when taken and "forwarded N" when sent on.

usage: delay_proxy.py PORTFILE UPSTREAM-PORT HOLDFILE SECONDS [LIFETIME]
Binds 127.0.0.1 only; exits after LIFETIME seconds (default 300)."""
import os
import socket
import sys
import threading
import time

portfile, up_port, holdfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
delay = float(sys.argv[4])
lifetime = float(sys.argv[5]) if len(sys.argv) > 5 else 300.0
count = [0]
lock = threading.Lock()


def log(msg):
    sys.stderr.write("%.3f %s\n" % (time.time(), msg))
    sys.stderr.flush()


def down(srv, cli):
    """etcd -> client, as it comes (watch streams included)."""
    try:
        while True:
            b = srv.recv(65536)
            if not b:
                break
            try:
                cli.sendall(b)
            except OSError:
                pass    # the client gave up: read etcd's answer anyway
    except OSError:
        pass
    for s in (cli, srv):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def one_request(buf):
    """(request bytes, rest) once buf holds a whole request, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").lower()
    n = 0
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            n = int(line.split(":", 1)[1])
    total = end + 4 + n
    if len(buf) < total:
        return None
    return buf[:total], buf[total:]


def up(cli, srv):
    """client -> etcd, request by request, a delete held back."""
    buf = b""
    try:
        while True:
            r = one_request(buf)
            if r is None:
                b = cli.recv(65536)
                if not b:
                    break
                buf += b
                continue
            req, buf = r
            if b"request_delete_range" in req and os.path.exists(holdfile):
                with lock:
                    count[0] += 1
                    n = count[0]
                log("held %d" % n)
                time.sleep(delay)
                log("forwarded %d" % n)
            srv.sendall(req)
    except OSError:
        pass
    if buf:
        try:
            srv.sendall(buf)
        except OSError:
            pass


def serve(cli):
    srv = socket.create_connection(("127.0.0.1", up_port))
    threading.Thread(target=down, args=(srv, cli), daemon=True).start()
    up(cli, srv)


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
ls.settimeout(1.0)
t_end = time.time() + lifetime
while time.time() < t_end:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
