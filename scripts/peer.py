#!/usr/bin/env python3
"""Loopback TCP peers that make one kind of close happen, for recording fixtures.

Usage: peer.py SCENARIO PORT
Runs an echo server (upper-cases what it receives) and a client on 127.0.0.1:PORT
(or [::1]:PORT for 'ipv6') in one process and exits when both are done. Only
loopback addresses are used; every wait is bounded.
"""
import socket
import struct
import sys
import threading
import time

scenario, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if scenario == "ipv6" else socket.AF_INET
host = "::1" if scenario == "ipv6" else "127.0.0.1"


def listen():
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    s.settimeout(5)
    return s


def server(ls, mode):
    c, _ = ls.accept()
    c.settimeout(5)
    data = c.recv(65536)
    if mode == "echo":  # the tutorial server: reply, close at once
        c.sendall(data.upper())
        c.close()
    elif mode == "wait-eof":  # reply, close when the client has closed
        c.sendall(data.upper())
        while c.recv(65536):
            pass
        c.close()
    elif mode == "slow":  # reply, then close well after the delayed-ACK timer
        c.sendall(data.upper())
        while c.recv(65536):
            pass
        time.sleep(0.3)
        c.close()
    elif mode == "half":  # read to EOF, then send more chunks, then close
        while True:
            more = c.recv(65536)
            if not more:
                break
            data += more
        for i in range(3):
            c.sendall(data.upper() + b" #%d" % i)
            time.sleep(0.06)
        c.close()
    elif mode == "hold":  # reply, then wait for whatever the client does
        c.sendall(data.upper())
        try:
            c.recv(65536)
        except OSError:
            pass
        c.close()
    ls.close()


def client(mode):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.settimeout(5)
    c.connect((host, port))
    c.sendall(b"helloworld")
    if mode == "seed":
        c.recv(65536)
        c.close()
    elif mode == "client-close":
        c.recv(65536)
        c.close()
    elif mode == "late-close":  # wait for the server's FIN, then close quickly
        c.recv(65536)
        while c.recv(65536):
            pass
        c.close()
    elif mode == "half":
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
        c.close()
    elif mode == "abort":
        c.recv(65536)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()


plans = {
    # scenario: (server mode, client mode)
    "seed": ("echo", "seed"),
    "ipv6": ("echo", "seed"),
    "client-first": ("wait-eof", "client-close"),
    "server-first": ("echo", "late-close"),
    "slow-close": ("slow", "client-close"),
    "half-close": ("half", "half"),
    "abort": ("hold", "abort"),
}

if scenario == "refused":
    c = socket.socket(family, socket.SOCK_STREAM)
    c.settimeout(5)
    try:
        c.connect((host, port))
    except ConnectionRefusedError:
        pass
    sys.exit(0)

smode, cmode = plans[scenario]
ls = listen()
t = threading.Thread(target=server, args=(ls, smode))
t.start()
time.sleep(0.05)
client(cmode)
t.join(10)
