#!/usr/bin/env python3
"""A hostile network on loopback, for the scanner's address and opt-out rules.

An authoritative DNS server (UDP, 127.0.0.1) answers from a small zone whose names resolve
to loopback, private and reserved addresses in every form a resolver can hand over (A,
AAAA, IPv4-mapped, NAT64, 6to4) and through CNAMEs; two dual-stack listeners stand in for
every policy host (HTTPS port) and MX host (SMTP port). Each listener logs every accepted
connection with the local address it arrived on, then closes it: the log is the proof of
what the scanner did or did not connect to.

  hostile_net.py READY_FILE ACCEPT_LOG LIST_FILE
READY_FILE gets dns_port, https_port, smtp_port once listening; LIST_FILE the zone's
domains. Each accept appends a JSON line {"service", "addr"} to ACCEPT_LOG. Runs until
SIGTERM.
"""
import json
import os
import selectors
import signal
import socket
import struct
import sys

STS = ("TXT", b"v=STSv1; id=1;")

# name -> list of (type, value). Names the scanner asks for and nothing else.
ZONE = {}


def domain(name, policy, mx):
    """A domain with a record, its policy host records and its MX host records."""
    ZONE["_mta-sts." + name] = [STS]
    ZONE["mta-sts." + name] = policy
    ZONE[name] = [("MX", "mx." + name)]
    ZONE["mx." + name] = mx


# Hostile addresses: each domain's policy host and MX host resolve to one special form.
domain("a.hostile.test", [("A", "127.0.0.2")], [("A", "127.0.0.3")])
domain("private.hostile.test", [("A", "10.0.0.1")], [("A", "192.168.1.1")])
domain("aaaa.hostile.test", [("AAAA", "::1")], [("AAAA", "::1")])
domain("mapped.hostile.test", [("AAAA", "::ffff:127.0.0.4")], [("AAAA", "::ffff:127.0.0.5")])
domain("nat64.hostile.test", [("AAAA", "64:ff9b::127.0.0.6")], [("AAAA", "64:ff9b::10.0.0.7")])
domain("sixto4.hostile.test", [("AAAA", "2002:7f00:8::1")], [("AAAA", "2002:c0a8:109::1")])

# The opt-out list names provider.test: its hosts are reached as MX hosts and through CNAMEs.
domain("optout-mx.test", [("A", "127.0.0.10")], [])
ZONE["optout-mx.test"] = [("MX", "mx.provider.test")]
ZONE["mx.provider.test"] = [("A", "127.0.0.11")]
domain("optout-cname.test", [("CNAME", "mta-sts.provider.test")], [("CNAME", "mail.provider.test")])
ZONE["mta-sts.provider.test"] = [("A", "127.0.0.12")]
ZONE["mail.provider.test"] = [("A", "127.0.0.13")]
domain("control.test", [("A", "127.0.0.14")], [("A", "127.0.0.15")])

DOMAINS = ["a.hostile.test", "private.hostile.test", "aaaa.hostile.test",
           "mapped.hostile.test", "nat64.hostile.test", "sixto4.hostile.test",
           "optout-mx.test", "optout-cname.test", "control.test"]

TYPES = {"A": 1, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28}


def wire_name(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\0"


def rdata(rtype, value):
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype == "MX":
        return struct.pack(">H", 10) + wire_name(value)
    if rtype == "TXT":
        return bytes([len(value)]) + value
    return wire_name(value)  # CNAME


def answer(name, qtype):
    """The answer records for (name, qtype), following CNAMEs inside the zone."""
    out = []
    for _ in range(8):
        records = ZONE.get(name, [])
        cname = [v for t, v in records if t == "CNAME"]
        out += [(name, t, v) for t, v in records if TYPES[t] == qtype or t == "CNAME"]
        if not cname or qtype == TYPES["CNAME"]:
            break
        name = cname[0]
    return out


def reply(query):
    qid, _flags, qd = struct.unpack(">HHH", query[:6])
    if qd != 1:
        return None
    pos, labels = 12, []
    while query[pos]:
        labels.append(query[pos + 1:pos + 1 + query[pos]].decode("ascii", "replace"))
        pos += 1 + query[pos]
    qtype = struct.unpack(">H", query[pos + 1:pos + 3])[0]
    question = query[12:pos + 5]
    name = ".".join(labels).lower()
    records = answer(name, qtype)
    rcode = 0 if name in ZONE else 3
    body = b"".join(wire_name(owner) + struct.pack(">HHIH", TYPES[t], 1, 60, len(rdata(t, v)))
                    + rdata(t, v) for owner, t, v in records)
    header = struct.pack(">HHHHHH", qid, 0x8400 | rcode, 1, len(records), 0, 0)
    return header + question + body


def main():
    ready, log_path, list_path = sys.argv[1:4]
    with open(list_path, "w") as f:
        f.write("".join(d + "\n" for d in DOMAINS))
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 0))
    listeners = {}
    for service in ("https", "smtp"):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # IPv4 arrives mapped
        s.bind(("::", 0))
        s.listen(128)
        listeners[s] = service
    sel = selectors.DefaultSelector()
    sel.register(dns, selectors.EVENT_READ)
    for s in listeners:
        sel.register(s, selectors.EVENT_READ)
    log = open(log_path, "a", buffering=1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(ready + ".tmp", "w") as f:
        f.write(f"dns_port={dns.getsockname()[1]}\n")
        for s, service in listeners.items():
            f.write(f"{service}_port={s.getsockname()[1]}\n")

    os.rename(ready + ".tmp", ready)
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if sock is dns:
                query, peer = dns.recvfrom(4096)
                try:
                    out = reply(query)
                except (IndexError, struct.error):
                    out = None
                if out:
                    dns.sendto(out, peer)
                continue
            conn, _ = sock.accept()
            local = conn.getsockname()[0]
            if local.startswith("::ffff:") and "." in local:
                local = local[7:]
            log.write(json.dumps({"service": listeners[sock], "addr": local}) + "\n")
            conn.close()


if __name__ == "__main__":
    main()
