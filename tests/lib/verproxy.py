#!/usr/bin/env python3
"""A TCP proxy in front of a PostgreSQL server that reports another
server_version in the startup ParameterStatus (what libpq's PQserverVersion
reads).  Lets a test see a "newer" source with only one PostgreSQL installed.
Clients must connect with sslmode=disable gssencmode=disable, so every byte
from the server is a framed message.

usage: verproxy.py LISTEN_PORT UPSTREAM_PORT FAKE_VERSION   (prints "ready")
"""
import socket, struct, sys, threading

listen_port, upstream_port, fake = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()


def pump(src, dst, rewrite):
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if not rewrite:
                dst.sendall(data)
                continue
            buf += data
            out = b""
            while len(buf) >= 5:
                (length,) = struct.unpack("!I", buf[1:5])
                if len(buf) < 1 + length:
                    break
                msg, buf = buf[:1 + length], buf[1 + length:]
                if msg[:1] == b"S" and msg[5:].startswith(b"server_version\0"):
                    body = b"server_version\0" + fake + b"\0"
                    msg = b"S" + struct.pack("!I", 4 + len(body)) + body
                out += msg
            dst.sendall(out)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    up = socket.create_connection(("127.0.0.1", upstream_port))
    threading.Thread(target=pump, args=(client, up, False), daemon=True).start()
    threading.Thread(target=pump, args=(up, client, True), daemon=True).start()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(16)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    serve(c)
