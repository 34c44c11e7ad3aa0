"""The suite's network guard: connects beyond the loopback fail loudly, local ones work."""

import socket
import threading

import pytest

from tests.conftest import NetworkBlocked

REMOTE = ("203.0.113.1", 443)  # TEST-NET-3: documentation only, never routed


@pytest.fixture
def listener():
    """A TCP server on 127.0.0.1 that accepts one connection and answers ``hi``."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"hi")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()
    thread.join(5)
    server.close()


@pytest.mark.parametrize(
    "connect",
    [
        lambda: socket.socket().connect(REMOTE),
        lambda: socket.socket().connect_ex(REMOTE),
        lambda: socket.create_connection(REMOTE, timeout=1),
        lambda: socket.create_connection(("example.com", 80), timeout=1),
        lambda: socket.socket(socket.AF_INET6).connect(("2001:db8::1", 443)),
    ],
    ids=["connect", "connect_ex", "create_connection", "host name", "ipv6"],
)
def test_a_connect_beyond_the_loopback_is_blocked(connect):
    with pytest.raises(NetworkBlocked, match="must not use the network"):
        connect()


def test_an_http_client_is_blocked_too():
    import urllib.request

    with pytest.raises(NetworkBlocked):
        urllib.request.urlopen("http://203.0.113.1/", timeout=1)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_loopback_stays_reachable(listener, host):
    with socket.create_connection((host, listener[1]), timeout=5) as conn:
        assert conn.recv(2) == b"hi"


def test_plain_connect_to_the_loopback_works(listener):
    with socket.socket() as sock:
        assert sock.connect_ex(listener) == 0
        assert sock.recv(2) == b"hi"


def test_unix_sockets_are_allowed(tmp_path):
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen(1)
        client.connect(path)
        conn, _ = server.accept()
        conn.close()
