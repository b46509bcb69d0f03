#!/usr/bin/env python3
"""The loopback situations behind the fixtures that synack's own scenarios do
not make (scripts/record-fixtures.sh runs each in a network namespace of its
own, with tcpdump on its lo). Usage: fixtures.py SCENARIO PORT.

Every scenario is bounded: sockets time out, loops are counted, every thread
is joined, and nothing is sent beyond 127.0.0.1.
"""

import socket
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"


def listener(port, backlog=8):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((HOST, port))
    srv.listen(backlog)
    srv.settimeout(30)
    return srv


def client(port, bind_port=0):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if bind_port:
        c.bind((HOST, bind_port))
    c.settimeout(30)
    c.connect((HOST, port))
    return c


def recv_all(s):
    """Reads until end of file (at most 64 reads)."""
    data = b""
    for _ in range(64):
        chunk = s.recv(1024)
        if not chunk:
            break
        data += chunk
    return data


def backlog(port):
    """listen(1) and no accept() for a while: 12 clients at once. At 0.9 s
    the server accepts one connection (a place frees up just before the
    clients' retransmitted SYNs come: two of them get a SYN-ACK, the accept
    queue is full again after the first one's ACK, and the second one's ACK
    is dropped); then it accepts nothing until 4 s, and serves the rest, each
    as soon as it is accepted."""
    n, first, hold = 12, 0.9, 4.0
    srv = listener(port, 1)
    errors = []

    def one(i):
        try:
            c = client(port)
            c.sendall(b"helloworld")
            c.recv(1024)
            c.close()
        except OSError as e:
            errors.append((i, e))

    def serve(s):
        s.settimeout(5)
        s.sendall(s.recv(1024).upper())
        s.close()

    start = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    time.sleep(first)
    serve(srv.accept()[0])
    time.sleep(max(0.0, hold - (time.monotonic() - start)))
    servers = []
    for _ in range(n - 1):
        servers.append(threading.Thread(target=serve, args=(srv.accept()[0],)))
        servers[-1].start()
    for t in threads + servers:
        t.join(35)
    srv.close()
    if errors:
        sys.exit(f"clients failed: {errors}")


def request_then_shut(port, srv, serve):
    """Runs `serve` on a thread while a client sends its request, shuts down
    writing, and reads until the server closes."""
    t = threading.Thread(target=serve)
    t.start()
    c = client(port)
    c.sendall(b"helloworld")
    c.shutdown(socket.SHUT_WR)
    recv_all(c)
    c.close()
    t.join(10)
    srv.close()


def half_close_data(port):
    """The client sends its request and shuts down writing; the server
    answers 25 ms after the FIN with 9 bytes (its ACK of the FIN rides on
    them: no delayed-ACK timer fires), then closes 100 ms later."""
    srv = listener(port)

    def serve():
        s = srv.accept()[0]
        recv_all(s)
        time.sleep(0.025)
        s.sendall(b"HELLOWORL")
        time.sleep(0.1)
        s.close()

    request_then_shut(port, srv, serve)


def unread_rst(port):
    """The server answers and shuts down writing; the client then sends 13
    bytes, which the server's TCP acknowledges; the server's program closes
    247 ms later without reading them, and its kernel sends RST. The client
    keeps its socket open (no FIN of its own) until the server has closed."""
    srv = listener(port)
    sent, closed = threading.Event(), threading.Event()

    def serve():
        s = srv.accept()[0]
        s.sendall(s.recv(1024).upper())
        s.shutdown(socket.SHUT_WR)
        sent.wait(10)
        time.sleep(0.247)
        s.close()
        closed.set()

    t = threading.Thread(target=serve)
    t.start()
    c = client(port)
    c.sendall(b"helloworld")
    recv_all(c)
    c.sendall(b"one more line")
    sent.set()
    closed.wait(10)
    time.sleep(0.05)
    c.close()
    t.join(10)
    srv.close()


def fin_data(port):
    """The client sends its request and shuts down writing; the server
    answers and closes at once, its answer held back (MSG_MORE) so that its
    data, its FIN and its ACK of the client's FIN leave in one segment."""
    srv = listener(port)

    def serve():
        s = srv.accept()[0]
        data = recv_all(s)
        s.send(data.upper(), socket.MSG_MORE)
        s.close()

    request_then_shut(port, srv, serve)


def exchange_then_close(port, serve, *args):
    """Runs `serve(*args)` on a thread; a client sends its request, reads the
    answer and closes. Returns the thread and the client's port."""
    t = threading.Thread(target=serve, args=args)
    t.start()
    c = client(port)
    mine = c.getsockname()[1]
    c.sendall(b"helloworld")
    c.recv(1024)
    c.close()
    return t, mine


def nft(*args):
    subprocess.run(["nft", *args], check=True)


def lost_last_ack(port):
    """The client closes first; the server closes; the client's last ACK is
    dropped on its way in (nftables, in this network namespace only), so the
    server sends its FIN again, and the client answers it from TIME-WAIT."""
    srv = listener(port)
    go = threading.Event()

    def serve():
        s = srv.accept()[0]
        s.sendall(s.recv(1024).upper())
        recv_all(s)
        go.wait(10)
        s.close()

    t, mine = exchange_then_close(port, serve)
    time.sleep(0.1)
    nft("add", "table", "inet", "drop_ack")
    nft("add", "chain", "inet", "drop_ack", "in", "{ type filter hook input priority 0; }")
    nft("add", "rule", "inet", "drop_ack", "in",
        f"tcp sport {mine} tcp dport {port} tcp flags == ack drop")
    go.set()
    t.join(10)
    time.sleep(0.1)
    nft("delete", "table", "inet", "drop_ack")
    time.sleep(0.5)
    srv.close()


def time_wait_reuse(port):
    """The server closes first and waits in TIME-WAIT; the client, in CLOSED,
    connects again at once from the same port: the server's TIME-WAIT takes
    the new SYN (its sequence number is beyond the old connection's)."""
    srv = listener(port)

    def serve(n):
        for _ in range(n):
            s = srv.accept()[0]
            s.sendall(s.recv(1024).upper())
            s.close()

    t = threading.Thread(target=serve, args=(2,))
    t.start()
    c = client(port)
    mine = c.getsockname()[1]
    c.sendall(b"helloworld")
    recv_all(c)
    c.close()
    time.sleep(0.05)
    c = client(port, bind_port=mine)
    c.sendall(b"helloagain")
    recv_all(c)
    c.close()
    t.join(10)
    srv.close()


def time_wait_reuse_client(port):
    """The client closes first and waits in TIME-WAIT; 1.5 s later it
    connects again from the same port: Linux lets a connecting socket take
    over a 4-tuple whose TIME-WAIT is its own when timestamps show the new
    segments are newer and at least net.ipv4.tcp_tw_reuse_delay has passed
    (net.ipv4.tcp_tw_reuse: 2, loopback only, is the default)."""
    srv = listener(port)

    def serve(n):
        for _ in range(n):
            s = srv.accept()[0]
            s.sendall(s.recv(1024).upper())
            recv_all(s)
            s.close()

    t, mine = exchange_then_close(port, serve, 2)
    time.sleep(1.5)
    c = client(port, bind_port=mine)
    c.sendall(b"helloagain")
    c.recv(1024)
    c.close()
    t.join(10)
    srv.close()


if __name__ == "__main__":
    name, port = sys.argv[1], int(sys.argv[2])
    {
        "backlog": backlog,
        "half-close-data": half_close_data,
        "unread-rst": unread_rst,
        "fin-data": fin_data,
        "lost-last-ack": lost_last_ack,
        "time-wait-reuse": time_wait_reuse,
        "time-wait-reuse-client": time_wait_reuse_client,
    }[name](port)
