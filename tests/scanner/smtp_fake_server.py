#!/usr/bin/python3
"""A scripted SMTP server for the prober's tests, loopback only.

Each behaviour listens on its own address 127.83.0.N, all on one port, so a test selects
a behaviour by the address it dials. Usage: smtp_fake_server.py CERT_DIR. Prints
"PORT <n>" once listening and serves until its stdin closes. A connection to 127.83.0.1
returns per-address counters as JSON (sessions, peak concurrency, QUIT commands seen).
Certificates come from tls_make_certs.sh.
"""
import asyncio
import json
import os
import socket
import ssl
import struct
import sys
import warnings

PREFIX = "127.83.0."
CONTROL = PREFIX + "1"
MX = b"mx1.example.test"

# address suffix -> behaviour name (the C test uses the same table)
SCENARIOS = {
    2: "normal",
    3: "multiline-banner",
    4: "banner-421",
    5: "banner-554",
    6: "stall-banner",
    7: "garbage-banner",
    8: "endless-banner",
    9: "no-starttls",
    10: "starttls-454",
    11: "injection",
    12: "reset-banner",
    13: "reset-ehlo",
    14: "reset-starttls",
    15: "reset-handshake",
    16: "stall-handshake",
    17: "tls11-only",
    18: "expired",
    19: "wrong-name",
    20: "self-signed",
    21: "drip-banner",
    22: "slow",
    23: "ehlo-502",
    24: "long-line",
    25: "counted",
    27: "quit-stall",
    28: "stall-ehlo",
    29: "garbage-handshake",
}
# 26 is left unbound: connection refused.

stats = {}
# TLS 1.0/1.1 are deprecated, which is the point of the tls11-only behaviour.
warnings.filterwarnings("ignore", category=DeprecationWarning)


def tls_context(certdir, leaf, tls11=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(certdir, leaf), os.path.join(certdir, "leaf-key.pem"))
    if tls11:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


def rst(writer):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class Session:
    def __init__(self, name, reader, writer, contexts, st):
        self.name, self.reader, self.writer = name, reader, writer
        self.contexts, self.st = contexts, st

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def line(self):
        data = await self.reader.readline()
        if not data:
            raise ConnectionError("eof")
        return data.strip().upper()

    async def goodbye(self):
        """Answers commands until QUIT."""
        while True:
            cmd = await self.line()
            if cmd == b"QUIT":
                self.st["quit"] += 1
                if self.name != "quit-stall":
                    await self.send(b"221 2.0.0 Bye\r\n")
                    return
                await asyncio.sleep(3600)
            await self.send(b"503 5.5.1 Bad sequence\r\n")

    async def run(self):
        n = self.name
        if n == "stall-banner":
            await asyncio.sleep(3600)
        if n == "reset-banner":
            return rst(self.writer)
        if n == "endless-banner":
            while True:
                await self.send(b"220-" + b"x" * 70 + b"\r\n")
        if n == "drip-banner":
            for b in b"220 slowly\r\n":
                await self.send(bytes([b]))
                await asyncio.sleep(0.5)
        if n == "long-line":
            await self.send(b"220 " + b"a" * 5000 + b"\r\n")
        if n == "garbage-banner":
            await self.send(b"HELLO THERE\r\n")
            return await self.goodbye()
        if n == "banner-421":
            await self.send(b"421 4.3.2 Too busy\r\n")
            return await self.goodbye()
        if n == "banner-554":
            await self.send(b"554 5.7.1 No thanks\r\n")
            return await self.goodbye()
        if n == "slow":
            await asyncio.sleep(0.3)
        if n == "multiline-banner":
            await self.send(b"220-" + MX + b" ESMTP\r\n220-second line\r\n220 ready\r\n")
        elif n != "drip-banner" and n != "long-line":
            await self.send(b"220 " + MX + b" ESMTP fake\r\n")
        cmd = await self.line()
        if not cmd.startswith(b"EHLO "):
            return
        self.st["ehlo"] = cmd[5:].decode().lower()
        if n == "reset-ehlo":
            return rst(self.writer)
        if n == "stall-ehlo":
            return await self.goodbye()
        if n == "ehlo-502":
            await self.send(b"502 5.5.2 No EHLO here\r\n")
            return await self.goodbye()
        caps = [MX, b"PIPELINING", b"SIZE 10240000"]
        if n != "no-starttls":
            caps.append(b"starttls")
        await self.send(b"".join(b"250-" + c + b"\r\n" for c in caps[:-1]) +
                        b"250 " + caps[-1] + b"\r\n")
        cmd = await self.line()
        if n == "no-starttls":
            if cmd == b"QUIT":
                self.st["quit"] += 1
                await self.send(b"221 2.0.0 Bye\r\n")
            return
        if cmd != b"STARTTLS":
            return
        if n == "reset-starttls":
            return rst(self.writer)
        if n == "starttls-454":
            await self.send(b"454 4.7.0 TLS not available\r\n")
            return await self.goodbye()
        if n == "injection":
            await self.send(b"220 2.0.0 Ready\r\n250-injected\r\n250 more\r\n")
        else:
            await self.send(b"220 2.0.0 Ready to start TLS\r\n")
        if n == "reset-handshake":
            await self.reader.read(1)
            return rst(self.writer)
        if n == "stall-handshake":
            await asyncio.sleep(3600)
        if n == "garbage-handshake":
            await self.reader.read(1)
            await self.send(b"this is not TLS\r\n")
            return await self.goodbye()
        await self.writer.start_tls(self.contexts[n])
        return await self.goodbye()


async def serve(certdir):
    leaf = {"expired": "expired.pem", "wrong-name": "wrong-name.pem",
            "self-signed": "self-signed.pem"}
    contexts = {name: tls_context(certdir, leaf.get(name, "valid.pem"), name == "tls11-only")
                for name in SCENARIOS.values()}

    def handler(name, addr):
        st = stats.setdefault(addr, {"sessions": 0, "now": 0, "max": 0, "quit": 0})

        async def handle(reader, writer):
            st["sessions"] += 1
            st["now"] += 1
            st["max"] = max(st["max"], st["now"])
            try:
                await Session(name, reader, writer, contexts, st).run()
            except (ConnectionError, ssl.SSLError, OSError, asyncio.IncompleteReadError):
                pass
            finally:
                st["now"] -= 1
                writer.close()
        return handle

    async def control(reader, writer):
        writer.write(json.dumps(stats).encode())
        await writer.drain()
        writer.close()

    for attempt in range(20):
        servers = []
        try:
            first = await asyncio.start_server(control, CONTROL, 0)
            servers.append(first)
            port = first.sockets[0].getsockname()[1]
            for n, name in SCENARIOS.items():
                addr = PREFIX + str(n)
                servers.append(await asyncio.start_server(handler(name, addr), addr, port))
            break
        except OSError:
            for s in servers:
                s.close()
    else:
        sys.exit("no free port")
    print("PORT", port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
