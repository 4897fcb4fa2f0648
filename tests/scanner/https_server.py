#!/usr/bin/python3
"""HTTPS policy server for the fetcher tests (stdlib only).

Usage: https_server.py CERTDIR

Listens with TLS on 127.0.0.1, 127.0.0.2 and ::1 (one port, chosen by the kernel) and on a
plain control port on 127.0.0.1, then prints "PORT <https> <control>" on stdout. The
policy host name (SNI, else the Host header) selects the behaviour: mta-sts.<case>.test,
<case> one of ok, utf8, html, notfound, forbidden, moved, big, drip, stall, reset, hold,
gzip, deflate, bomb (16 MiB of zeros, gzip), badgzip and compress (each sent with its
Content-Encoding whatever the request asked for);
expired, wrongname, selfsigned and untrusted get broken certificates and then answer like
ok. Any other name answers like ok.

Control protocol, one line per command: "stats" returns one JSON line with, per policy
host, the connections accepted and the requests received (a request is counted as soon as
any byte of it arrives), the request heads, and per local address the peak number of
concurrent requests being answered; "reset" clears the counters.
"""
import asyncio
import gzip
import json
import os
import socket
import ssl
import struct
import sys
import zlib

POLICY = b"version: STSv1\r\nmode: enforce\r\nmx: mx1.ok.test\r\nmax_age: 86400\r\n"
BIG = b"x" * (100 * 1024)
CODED = {
    "gzip": (b"gzip", gzip.compress(POLICY)),
    "deflate": (b"deflate", zlib.compress(POLICY)),
    "bomb": (b"gzip", gzip.compress(bytes(16 << 20))),
    "badgzip": (b"gzip", b"this is not gzip"),
    "compress": (b"compress", POLICY),
}


class Stats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.conns = {}
        self.requests = {}
        self.heads = {}
        self.active = {}
        self.peak = {}


stats = Stats()
sni_of = {}  # id(SSLObject) -> server name the client sent


def context(certdir, leaf):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(certdir, leaf), os.path.join(certdir, "leaf-key.pem"))
    return ctx


def case_of(host):
    parts = host.split(".")
    if len(parts) == 3 and parts[0] == "mta-sts" and parts[2] == "test":
        return parts[1]
    return "ok"


def response(status, ctype, body, extra=b""):
    head = b"HTTP/1.1 " + status + b"\r\n"
    if ctype:
        head += b"Content-Type: " + ctype + b"\r\n"
    head += extra
    head += b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
    return head + body


async def handle(reader, writer):
    sslobj = writer.get_extra_info("ssl_object")
    sock = writer.get_extra_info("socket")
    local = sock.getsockname()[0]
    sni = sni_of.pop(id(sslobj), "")
    stats.conns[sni] = stats.conns.get(sni, 0) + 1
    try:
        await serve(reader, writer, sni, local, sock)
    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
        pass
    finally:
        writer.close()


def busy(local, delta):
    """Requests being answered per local address: the client holds its connection for at
    least this long, so the peak is a lower bound of the client's concurrency."""
    stats.active[local] = stats.active.get(local, 0) + delta
    stats.peak[local] = max(stats.peak.get(local, 0), stats.active[local])


async def serve(reader, writer, sni, local, sock):
    first = await reader.read(1)
    if not first:
        return
    stats.requests[sni] = stats.requests.get(sni, 0) + 1
    head = first + await reader.readuntil(b"\r\n\r\n")
    stats.heads.setdefault(sni, []).append(head.decode("latin-1"))
    busy(local, 1)
    try:
        await answer(writer, case_of(sni), sock)
    finally:
        busy(local, -1)


async def answer(writer, case, sock):
    if case == "stall":
        await asyncio.sleep(3600)
    elif case == "hold":
        await asyncio.sleep(0.2)
    if case in ("drip", "reset"):
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n")
        if case == "reset":
            writer.write(b"y" * 100)
            await writer.drain()
            await asyncio.sleep(0.05)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        for _ in range(1000):
            writer.write(b"z")
            await writer.drain()
            await asyncio.sleep(0.05)
        return
    if case == "utf8":
        out = response(b"200 OK", b"text/plain; charset=utf-8", POLICY)
    elif case == "html":
        out = response(b"200 OK", b"text/html", b"<html>policy</html>")
    elif case == "notfound":
        out = response(b"404 Not Found", b"text/html", b"<h1>Not Found</h1>")
    elif case == "forbidden":
        out = response(b"403 Forbidden", b"text/html", b"<h1>Forbidden</h1>")
    elif case == "moved":
        out = response(b"301 Moved Permanently", b"text/html", b"moved",
                       b"Location: https://www.moved.test/.well-known/mta-sts.txt\r\n")
    elif case == "badtype":  # a Latin-1 byte in the media type: not UTF-8
        out = response(b"200 OK", b"text/plain; charset=\xff", POLICY)
    elif case == "badloc":
        out = response(b"301 Moved Permanently", b"text/html", b"moved",
                       b"Location: https://www.\xe9.test/\r\n")
    elif case == "big":
        out = response(b"200 OK", b"text/plain", BIG)
    elif case in CODED:
        coding, body = CODED[case]
        out = response(b"200 OK", b"text/plain", body, b"Content-Encoding: " + coding + b"\r\n")
    else:
        out = response(b"200 OK", b"text/plain", POLICY)
    writer.write(out)
    await writer.drain()


async def control(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = line.strip()
        if cmd == b"stats":
            out = {"conns": stats.conns, "requests": stats.requests, "heads": stats.heads,
                   "peak": stats.peak}
            writer.write(json.dumps(out).encode() + b"\n")
        elif cmd == b"reset":
            stats.reset()
            writer.write(b"{}\n")
        await writer.drain()
    writer.close()


async def main():
    certdir = sys.argv[1]
    ctx = context(certdir, "valid.pem")
    special = {"mta-sts.%s.test" % k: context(certdir, k + ".pem")
               for k in ("expired", "wrongname", "selfsigned", "untrusted")}

    def pick(sslobj, name, _ctx):
        sni_of[id(sslobj)] = name or ""
        if name in special:
            sslobj.context = special[name]

    ctx.sni_callback = pick
    first = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx, backlog=2048)
    port = first.sockets[0].getsockname()[1]
    others = [await asyncio.start_server(handle, a, port, ssl=ctx, backlog=2048)
              for a in ("127.0.0.2", "::1")]
    ctl = await asyncio.start_server(control, "127.0.0.1", 0)
    print("PORT %d %d" % (port, ctl.sockets[0].getsockname()[1]), flush=True)
    await asyncio.gather(first.serve_forever(), ctl.serve_forever(),
                         *(o.serve_forever() for o in others))


if __name__ == "__main__":
    asyncio.run(main())
