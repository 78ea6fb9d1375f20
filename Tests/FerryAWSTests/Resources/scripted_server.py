#!/usr/bin/env python3
"""A scripted HTTP server for tests of behaviour the AWS emulator cannot produce on demand:
throttling, server faults, clock skew, and the EC2/container credential endpoints (which
cannot run here). It answers each METHOD+path with the next response of its script.

Usage: scripted_server.py SCRIPT.json   (prints its port, then serves until killed)
SCRIPT: {"GET /path": [{"status": 503, "headers": {...}, "body": "..."}, ...], ...}
A response may also say "delay": SECONDS (wait before answering) or "drop": true (read the
request, then close the connection without an answer: a request that reached the server
and whose answer was lost).
The last response of a route repeats. Every request is appended to SCRIPT.json.log as JSON.
"""
import json
import socket
import sys
import threading
import os
import time


def exit_with_parent():
    # A helper must not outlive the test process that started it.
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

script_path = sys.argv[1]
routes = json.load(open(script_path))
counters = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        route = f"{self.command} {self.path.split('?')[0]}"
        with lock:
            with open(script_path + ".log", "a") as log:
                log.write(json.dumps({"route": route, "path": self.path, "headers": dict(self.headers), "body": body.decode("utf-8", "replace")}) + "\n")
            responses = routes.get(route) or routes.get(f"* {self.path.split('?')[0]}") or [{"status": 404, "body": "no route"}]
            index = counters.get(route, 0)
            counters[route] = index + 1
            response = responses[min(index, len(responses) - 1)]
        if response.get("delay"):
            time.sleep(response["delay"])
        if response.get("drop"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        payload = response.get("body", "").encode()
        headers = response.get("headers", {})
        self.send_response_only(response.get("status", 200))
        if "Date" not in headers:
            self.send_header("Date", self.date_time_string())
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
