#!/usr/bin/env python3
"""A small HTTP(S) server for regress tests, whose behaviour is set per
request by a control file (JSON) or by the query string, the query string
winning:

  status=N        the status code (default 200)
  body=TEXT       the body (default "ok\\n")
  mode=normal     answer at once
  mode=hang       accept, read the request, never answer
  mode=huge       send size=N bytes with a Content-Length
  mode=stream     send size=N bytes without a Content-Length (then close)
  mode=slow       wait delay=SECONDS, then answer
  mode=close      close the connection without answering
  seq=[N, ...]    (control file only) statuses for consecutive requests;
                  the last one repeats.  Rewriting the file restarts it.

usage: httpd.py [--bind ADDR] [--port N | --port-file F] [--control F]
                [--cert F --key F] [--log F]
--port 0 (the default) picks a free port and writes it to --port-file.
Each request is logged to --log as "METHOD PATH host=HOST".
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def settings(control, query):
    s = {"status": 200, "body": "ok\n", "mode": "normal", "size": 0,
         "delay": 0}
    if control and os.path.exists(control):
        try:
            with open(control) as f:
                s.update(json.load(f))
        except (OSError, ValueError) as e:
            sys.stderr.write("httpd: control file: %s\n" % e)
    for k, v in urllib.parse.parse_qs(query).items():
        s[k] = v[-1]
    return s


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        s = settings(self.server.control, url.query)
        if self.server.logfile:
            with self.server.loglock, open(self.server.logfile, "a") as f:
                f.write("%s %s host=%s\n" % (self.command, self.path,
                                             self.headers.get("Host", "")))
        if "seq" in s and s["seq"]:
            with self.server.loglock:
                key = json.dumps(s["seq"])
                if self.server.seqkey != key:
                    self.server.seqkey, self.server.seqpos = key, 0
                i = min(self.server.seqpos, len(s["seq"]) - 1)
                self.server.seqpos += 1
            s["status"] = s["seq"][i]
        mode = s["mode"]
        if mode == "hang":
            # hold the connection open until the client gives up
            end = time.monotonic() + 300
            while time.monotonic() < end:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return
                except OSError:
                    return
                time.sleep(0.05)
            return
        if mode == "close":
            self.close_connection = True
            return
        if mode == "slow":
            time.sleep(float(s["delay"]))
        status = int(s["status"])
        if mode in ("huge", "stream"):
            size = int(s["size"])
            self.send_response(status)
            if mode == "huge":
                self.send_header("Content-Length", str(size))
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                while size > 0:
                    n = min(size, len(chunk))
                    self.wfile.write(chunk[:n])
                    size -= n
            except OSError:
                pass
            self.close_connection = True
            return
        body = str(s["body"]).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--control")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--log")
    a = ap.parse_args()

    family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET

    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True

    srv = Server((a.bind, a.port), Handler)
    srv.control = a.control
    srv.logfile = a.log
    srv.loglock = threading.Lock()
    srv.seqkey, srv.seqpos = None, 0
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
