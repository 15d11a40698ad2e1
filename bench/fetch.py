"""A lean HTTP/1.1 download client for the benchmarks: one GET, the body read into one 4 MiB buffer as fast as
the kernel hands it over and dropped, as `cat > /dev/null` drops what it reads. Standard library only.

    python -I bench/fetch.py URL [COOKIE] [CA_FILE]

Prints the body's size in bytes and the seconds from the connection to the last byte (TLS handshake and the
server's work included). Exit status 1 when the answer is not 200 or the body is shorter than Content-Length.
"""
from __future__ import annotations

import socket
import ssl
import sys
import time
from urllib.parse import urlsplit

BUFFER = 4 * 1024 * 1024


def fetch(url: str, cookie: str = "", cafile: str = "") -> tuple[int, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
    started = time.perf_counter()
    sock = socket.create_connection((host, port))
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=cafile or None)
        sock = context.wrap_socket(sock, server_hostname=host)
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
    if cookie:
        request += f"Cookie: {cookie}\r\n"
    sock.sendall((request + "\r\n").encode())
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    head = b""
    while b"\r\n\r\n" not in head:  # the status line and headers, then what came with them
        n = sock.recv_into(view)
        if not n:
            raise RuntimeError(f"{url}: the connection closed before the headers ended")
        head += bytes(view[:n])
    head, _, first = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if lines[0].split()[1] != "200":
        raise RuntimeError(f"{url}: {lines[0]}")
    length = next((int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:")),
                  None)
    received = len(first)
    while n := sock.recv_into(view):
        received += n
    seconds = time.perf_counter() - started
    sock.close()
    if length is not None and received != length:
        raise RuntimeError(f"{url}: {received} bytes, Content-Length said {length}")
    return received, seconds


if __name__ == "__main__":
    try:
        size, seconds = fetch(*sys.argv[1:4])
    except (OSError, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    print(size, f"{seconds:.6f}")
