"""A stub name server for Facteur's tests, so lookups never leave loopback: dnslib answering
from a zone file, over UDP and TCP on one port of 127.0.0.1. Usage: dns_stub.py ZONE_FILE

Prints "port N" once listening. Names the zone does not have get NXDOMAIN; a name it has, with
no record of the type asked, an empty answer. The zone file is read again when it changes, so a
test can publish records while the server under test runs. Zone syntax: dnslib's (master file format,
absolute names), e.g. `example.net. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`.
"""
import os
import socket
import sys
import threading

from dnslib import QTYPE, RCODE, RR
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class ZoneResolver(BaseResolver):
    def __init__(self, path):
        self.path = path
        self.read_at = None
        self.records = []
        self.lock = threading.Lock()

    def current_records(self):
        with self.lock:
            changed_at = os.stat(self.path).st_mtime_ns
            if changed_at != self.read_at:
                self.records = list(RR.fromZone(open(self.path).read()))
                self.read_at = changed_at
            return self.records

    def resolve(self, request, handler):
        reply = request.reply()
        qname, qtype = request.q.qname, request.q.qtype
        known = False
        for record in self.current_records():
            if record.rname == qname:
                known = True
                if qtype in (record.rtype, QTYPE.ANY):
                    reply.add_answer(record)
        if not known:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


resolver = ZoneResolver(sys.argv[1])
# One free port for both transports.
while True:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    try:
        # Quiet: the test stops reading stdout after the port, and a write to it would fail.
        quiet = DNSLogger(logf=lambda _: None)
        servers = [DNSServer(resolver, address="127.0.0.1", port=port, tcp=tcp, logger=quiet) for tcp in (False, True)]
        break
    except OSError:
        continue
for server in servers:
    server.start_thread()
print(f"port {port}", flush=True)
threading.Event().wait()
