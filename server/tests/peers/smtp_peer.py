"""Another mail server, for Facteur's outbound tests: aiosmtpd on 127.0.0.1, offering STARTTLS
when given a certificate. Usage: smtp_peer.py OUT_DIR [CERT KEY]

Prints "port N" once listening. Each accepted message becomes OUT_DIR/msg-N.json (envelope,
whether TLS was on, the data); each RCPT is a line "address code" in OUT_DIR/rcpt.log.
Recipients decide the answer by their local part:
  defer-*        451 every time
  reject-*       550 every time
  flaky-*        451 the first time, 550 after
  slow-*         accepted, but the data's reply comes after 3 seconds
  anything else  accepted
"""
import asyncio, json, os, socket, ssl, sys, threading

from aiosmtpd.controller import Controller

out_dir = sys.argv[1]
tls_context = None
if len(sys.argv) > 3:
    tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_context.load_cert_chain(sys.argv[2], sys.argv[3])

lock = threading.Lock()
seen = {}
counter = [0]


def log_rcpt(address, code):
    with lock, open(os.path.join(out_dir, "rcpt.log"), "a") as log:
        log.write(f"{address} {code}\n")


class Peer:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        with lock:
            seen[address] = seen.get(address, 0) + 1
            times = seen[address]
        if local.startswith("defer-") or (local.startswith("flaky-") and times == 1):
            reply = "451 4.3.0 Try again later"
        elif local.startswith("reject-") or local.startswith("flaky-"):
            reply = "550 5.1.1 No such user here"
        else:
            envelope.rcpt_tos.append(address)
            reply = "250 OK"
        log_rcpt(address, reply[:3])
        return reply

    async def handle_DATA(self, server, session, envelope):
        if any(r.split("@")[0].startswith("slow-") for r in envelope.rcpt_tos):
            await asyncio.sleep(3)
        with lock:
            counter[0] += 1
            n = counter[0]
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "data": envelope.original_content.decode("latin-1"),
        }
        path = os.path.join(out_dir, f"msg-{n}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Message accepted"


probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(
    Peer(), hostname="127.0.0.1", port=port, tls_context=tls_context, require_starttls=False,
    server_hostname="peer.example.net",
)
controller.start()
print(f"port {port}", flush=True)
threading.Event().wait()
