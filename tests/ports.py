"""Loopback ports for tests: taken by binding, and kept bound for as long as the test needs them.

Binding to port 0, reading the port and closing the socket leaves a moment in which another program
may take that port. A socket that stays bound keeps it: a client connecting to it is refused (nothing
listens yet), and a server started with the socket's file descriptor (gunicorn's fd://N) listens on it.
"""

import socket
from contextlib import contextmanager


@contextmanager
def bound_socket():
    """A TCP socket bound to a free loopback port, closed when the block ends."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def port_of(sock: socket.socket) -> int:
    return sock.getsockname()[1]
