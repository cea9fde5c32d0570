#!/usr/bin/env python3
"""healthd: the cluster lab's health target, one per node namespace.

Answers every GET with the status code read from a state file at each
request (default 200 when the file is missing or empty), so a test flips a
node's health with `echo 503 > FILE`.  The body names the node.  Listens on
127.0.0.1 inside the namespace it runs in; ends after --max-time seconds.

usage: healthd.py --name NAME --state FILE [--port 8080] [--max-time S]
"""
import argparse
import http.server
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--max-time", type=float, default=3600)
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            code = 200
            try:
                with open(args.state) as f:
                    text = f.read().strip()
                if text:
                    code = int(text)
            except (OSError, ValueError):
                pass
            body = ("%s %d\n" % (args.name, code)).encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *a):
            pass

    http.server.ThreadingHTTPServer.daemon_threads = True
    httpd = http.server.ThreadingHTTPServer((args.addr, args.port), Handler)
    threading.Timer(args.max_time, httpd.shutdown).start()
    httpd.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
