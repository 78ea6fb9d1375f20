#!/usr/bin/env python3
"""A TCP proxy on loopback that cuts the first N connections after passing CUT_AFTER bytes
of response, to test that downloads resume. Usage: cutting_proxy.py UPSTREAM_PORT CUT_AFTER N"""
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

upstream_port, cut_after, cuts = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
state = {"connections": 0}
lock = threading.Lock()


def pipe(src, dst, limit):
    sent = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if limit is not None and sent + len(data) > limit:
                dst.sendall(data[: limit - sent])
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def serve(client):
    with lock:
        state["connections"] += 1
        cut = state["connections"] <= cuts
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    threading.Thread(target=pipe, args=(client, upstream, None), daemon=True).start()
    pipe(upstream, client, cut_after if cut else None)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
