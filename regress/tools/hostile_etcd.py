#!/usr/bin/env python3
"""A hostile etcd v3 JSON gateway for regress (DESIGN.md section 11): it
answers what dcs asks like etcd would, except for one kind of reply that
is built to make the client allocate.  Not a mock of etcd: the tests that
need etcd's behaviour use the real one; this plays an attacker (a bad
etcd, or someone in the middle of an http:// endpoint).

usage: hostile_etcd.py PORTFILE MODE [SECONDS]
MODE:
  huge-range   /v3/kv/range answers a 60 MiB body (valid JSON start,
               sent as fast as the client reads)
  dense-range  /v3/kv/range answers 15 MiB of tiny values ([0,0,0,...])
  endless-watch /v3/watch confirms creation, then sends one message that
               never ends
  dense-watch  /v3/watch confirms creation, then sends one 15 MiB message
               of tiny values
Everything else gets a small, well-formed answer.  Each request is logged
to stderr as "METHOD PATH bytes-sent".  Binds 127.0.0.1 only; exits after
SECONDS (default 120)."""
import http.server
import json
import os
import socketserver
import sys
import threading
import time

portfile, mode = sys.argv[1], sys.argv[2]
lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
HDR = {"cluster_id": "1", "member_id": "1", "revision": "5",
       "raft_term": "2"}
MIB = 1024 * 1024


def small(path):
    if path == "/v3/lease/grant":
        return {"header": HDR, "ID": "7587869468316483587", "TTL": "5"}
    if path == "/v3/kv/txn":
        return {"header": HDR, "succeeded": True}
    if path == "/v3/kv/range":
        return {"header": HDR, "count": "0"}
    return {"header": HDR}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n > 0:
            self.rfile.read(n)
        sent = 0
        try:
            sent = self.answer()
        except (BrokenPipeError, ConnectionResetError):
            sent = -1
        sys.stderr.write("POST %s %d\n" % (self.path, sent))
        sys.stderr.flush()

    def answer(self):
        path = self.path
        if mode == "huge-range" and path == "/v3/kv/range":
            return self.huge()
        if mode == "dense-range" and path == "/v3/kv/range":
            return self.dense()
        if path in ("/v3/watch", "/v3/lease/keepalive"):
            return self.stream(path)
        body = json.dumps(small(path)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return len(body)

    def huge(self):
        # 60 MiB: one kv with a value that never seems to end
        total = 60 * MIB
        head = b'{"header":{"revision":"5"},"kvs":[{"key":"eA==","value":"'
        tail = b'"}],"count":"1"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        self.wfile.write(head)
        sent, block = len(head), b"A" * 65536
        while sent < total - len(tail):
            part = block[:total - len(tail) - sent]
            self.wfile.write(part)
            sent += len(part)
        self.wfile.write(tail)
        return sent + len(tail)

    def dense(self):
        body = DENSE_RANGE
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return len(body)

    def stream(self, path):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if path == "/v3/lease/keepalive":
            msg = {"result": {"header": HDR, "ID": "7587869468316483587",
                              "TTL": "5"}}
            self.send_chunk(json.dumps(msg).encode())
            self.send_chunk(b"")
            return 1
        created = {"result": {"header": HDR, "watch_id": "0",
                              "created": True}}
        self.send_chunk(json.dumps(created).encode())
        self.wfile.flush()
        sent = 0
        if mode == "dense-watch":
            msg = DENSE_WATCH
            for i in range(0, len(msg), 65536):
                self.send_chunk(msg[i:i + 65536])
            self.wfile.flush()
            time.sleep(lifetime)
            return len(msg)
        if mode != "endless-watch":
            time.sleep(lifetime)
            return sent
        # one message that never ends: events without a closing bracket
        self.send_chunk(b'{"result":{"header":{"revision":"6"},"events":[')
        block = b'{"type":"PUT","kv":{"key":"eA=="}},' * 1000
        end = time.monotonic() + lifetime
        while time.monotonic() < end:
            self.send_chunk(block)
            sent += len(block)
        return sent


def dense(head, tail):
    """15 MiB, under the size bound, of 7.8 million values."""
    n = (15 * MIB - len(head) - len(tail)) // 2
    return head + b"0," * (n - 1) + b"0" + tail


# built before the port is published: a loaded machine must not make
# the reply late
DENSE_RANGE = dense(b'{"header":{"revision":"5"},"kvs":[', b'],"count":"1"}')
DENSE_WATCH = dense(b'{"result":{"header":{"revision":"6"},"events":[', b"]}}")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(portfile + ".tmp", portfile)
threading.Thread(target=srv.serve_forever, daemon=True).start()
time.sleep(lifetime)
