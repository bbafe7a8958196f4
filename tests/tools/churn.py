#!/usr/bin/env python3
"""churn - many short TCP and UDP flows on a namespace's loopback, for the
lifecycle tests.  Run it inside a test namespace only.

  churn.py [--addr 10.99.0.1] [--port 7300] [--rate 3000] [--seconds 5]
           [--max 20000]

Each round opens one TCP connection (connect, a few bytes, close from the
client, accept and close on the server) and one UDP exchange from a fresh
socket (request and echo), so conntrack sees a full TCP life (SYN_SENT to
TIME_WAIT) and a UDP flow with a reply.  Stops after --seconds or after
--max flows, whichever comes first, and prints how many flows it made.
"""
import argparse
import os
import signal
import socket
import time


def tcp_server(sock):
    while True:
        try:
            c, _ = sock.accept()
        except OSError:
            continue
        try:
            c.recv(16)
        except OSError:
            pass
        c.close()


def udp_server(sock):
    while True:
        data, peer = sock.recvfrom(64)
        try:
            sock.sendto(data, peer)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", default="10.99.0.1")
    ap.add_argument("--port", type=int, default=7300)
    ap.add_argument("--rate", type=float, default=3000, help="flows a second")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--max", type=int, default=20000)
    a = ap.parse_args()

    tsrv = socket.socket()
    tsrv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tsrv.bind((a.addr, a.port))
    tsrv.listen(1024)
    usrv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    usrv.bind((a.addr, a.port))
    kids = []
    for fn, s in ((tcp_server, tsrv), (udp_server, usrv)):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            fn(s)
            os._exit(0)
        kids.append(pid)
    made = 0
    start = time.monotonic()
    try:
        while made < a.max:
            now = time.monotonic()
            if now - start >= a.seconds:
                break
            # pace to the rate, in small bursts
            ahead = made - (now - start) * a.rate
            if ahead > 20:
                time.sleep(ahead / a.rate)
                continue
            c = socket.socket()
            try:
                c.connect((a.addr, a.port))
                c.send(b"x")
            except OSError:
                pass
            c.close()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(0.5)
            try:
                u.sendto(b"y", (a.addr, a.port))
                u.recv(8)
            except OSError:
                pass
            u.close()
            made += 2
    finally:
        for pid in kids:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
    print(made)


main()
