"""Child for the many-connections test: ``python _unix_clients.py PATH N``.

Opens N connections to PATH, sends one length-prefixed frame on each, reads each echo, prints
``connected N`` and holds every connection open until its stdin closes.
"""

from __future__ import annotations

import resource
import socket
import struct
import sys


def main(path: str, n: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        body = b"client-%d" % i
        s.sendall(struct.pack("<I", len(body)) + body)
        socks.append((s, body))
    for s, body in socks:
        want = struct.pack("<I", len(body)) + body
        got = b""
        while len(got) < len(want):
            chunk = s.recv(len(want) - len(got))
            if not chunk:
                raise SystemExit("server closed early")
            got += chunk
        if got != want:
            raise SystemExit(f"bad echo {got!r}")
    print(f"connected {n}", flush=True)
    sys.stdin.read()
    for s, _ in socks:
        s.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
