#!/usr/bin/env python3
"""Benchmark: Facteur's IMAP server against Dovecot under Dovecot's own load tool, imaptest.

The same load against a `facteur` binary (started here on loopback with a fresh data folder)
and against the reference Dovecot in ../shared/reference (started beforehand), same messages:

- imaptest's default mix (LOGIN, LIST, STATUS, SELECT, FETCH, STORE, EXPUNGE, APPEND, LOGOUT)
  with state tracking, C clients on one mailbox for S seconds: commands per second, and the
  errors imaptest reports (it checks every answer against what it tracked);
- imaptest with logins only ('-': LOGIN, SELECT, LOGOUT): logins per second;
- memory per idle connection, measured first on a fresh process with 30 messages in INBOX:
  the server's memory before and after K more connections that logged in, examined INBOX
  and wait (after K/3 already did, so one-time set-up is not counted), plain then with
  STARTTLS, the plain ones kept open meanwhile (RSS of Facteur's one process;
  for Dovecot the PSS summed over its processes, since each connection is a process sharing
  most of its pages);
- IDLE notification latency: a session in IDLE, a message sent by SMTP; the time from the
  SMTP server's 250 to the `* n EXISTS` (for the reference that includes Postfix's queue
  handing the message to Dovecot over LMTP, which is what a user waits for).

Both servers take passwords without TLS on loopback for the imaptest runs (Facteur with
--plaintext-login-on-loopback, the reference as configured), so TLS costs do not blur the
comparison. Ratios are Facteur / reference for rates and reference / Facteur for memory and
latency: above 1 always means Facteur does better.

Usage: scripts/bench-imap.py --facteur PATH [--clients 20] [--secs 60]
Needs: imaptest on PATH or in $IMAPTEST (not packaged by Debian: build it from Dovecot's public
imaptest repository against dovecot-dev, outside this repository), and the reference set up
and started with many connections allowed (as root: REF_MANY_CONNECTIONS=1
../shared/reference/setup.sh, then start.sh). Everything stays on 127.0.0.1.
"""

import argparse
import importlib.util
import mailbox
import os
import re
import shutil
import smtplib
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_core", REPO / "scripts" / "bench-core.py")
core = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(core)

FACTEUR_USERS = ("ana@example.org", "bob@example.org")
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # both servers use self-signed certificates
say = core.say


def write_mbox(corpus, path):
    box = mailbox.mbox(path, create=True)
    for _message_id, _sender, raw in corpus:
        box.add(mailbox.mboxMessage(raw))
    box.flush()
    box.close()


def imaptest(binary, server, mbox, clients, secs, extra=()):
    """Runs imaptest; returns (commands per state, total commands per second, error lines)."""
    command = [binary, "host=127.0.0.1", f"port={server.imap_port}", f"user={server.user}",
               f"pass={server.password}", f"mbox={mbox}", f"clients={clients}", f"secs={secs}", *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=secs + 120)
    out = done.stdout + done.stderr
    errors = [line for line in out.splitlines() if line.startswith(("Error:", "Panic:", "Fatal:"))]
    lines = out.splitlines()
    try:
        at = max(i for i, line in enumerate(lines) if line.startswith("Totals:"))
    except ValueError:
        raise SystemExit(f"imaptest printed no totals:\n{out[-2000:]}")
    names = lines[at + 1].split()
    # Below the names come the probability lines (fewer with '-'), then the counts.
    counts = next(
        [int(n) for n in line.split()]
        for line in lines[at + 2:]
        if len(line.split()) == len(names) and all(n.isdigit() for n in line.split())
    )
    totals = dict(zip(names, counts))
    return totals, sum(totals.values()) / secs, errors


def memory_kb(server):
    """Facteur: RSS of its process. Dovecot: PSS summed over its processes (lmtp excluded)."""
    processes = [p for p in server.processes() if p[0] not in core.NOT_COUNTED]
    if len(processes) == 1:
        return processes[0][1]
    return sum(p[2] if p[2] is not None else p[1] for p in processes)


def open_idle(server, n, tls):
    """n connections, each logged in with INBOX selected; returns the sockets."""
    held = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", server.imap_port), timeout=30)
        reader = sock.makefile("rb")
        reader.readline()
        if tls:
            sock.sendall(b"s STARTTLS\r\n")
            while not reader.readline().startswith(b"s "):
                pass
            sock = TLS.wrap_socket(sock, server_hostname="localhost")
            reader = sock.makefile("rb")
        for tag, command in (("l", f"LOGIN {core.quote(server.user)} {core.quote(server.password)}"),
                             ("e", "EXAMINE INBOX")):
            sock.sendall(f"{tag} {command}\r\n".encode())
            while True:
                line = reader.readline()
                if not line:
                    raise SystemExit(f"{server.name} closed an idle connection during {command.split()[0]}")
                if line.startswith(f"{tag} ".encode()):
                    if not line.startswith(f"{tag} OK".encode()):
                        raise SystemExit(f"{server.name}: {line!r}")
                    break
        held.append((sock, reader))
    return held


def per_idle_connection(server, n, tls):
    """KiB per idle connection in the steady state, and the connections (the caller closes
    them). A first third of them is opened and kept before measuring, so what the first
    connections set up once (password hashing buffers, allocator arenas, Dovecot's login
    processes) is not counted as theirs. Connections measured before stay open meanwhile:
    memory they gave back would otherwise be reused here and not counted."""
    warm = open_idle(server, max(1, n // 3), tls)
    time.sleep(1)
    before = memory_kb(server)
    held = open_idle(server, n, tls)
    time.sleep(2)  # let the server settle (allocator, lazily started processes)
    after = memory_kb(server)
    return (after - before) / n, warm + held


def idle_latency(server, rounds):
    """Seconds from SMTP's 250 to `* n EXISTS` in an IDLE session, one per round."""
    sock = socket.create_connection(("127.0.0.1", server.imap_port), timeout=30)
    reader = sock.makefile("rb")
    reader.readline()
    sock.sendall(f"l LOGIN {core.quote(server.user)} {core.quote(server.password)}\r\ns SELECT INBOX\r\n".encode())
    while not reader.readline().startswith(b"s "):
        pass
    times = []
    for n in range(rounds):
        sock.sendall(f"i{n} IDLE\r\n".encode())
        assert reader.readline().startswith(b"+")
        message = (f"From: bench@example.org\r\nTo: {server.user}\r\nSubject: idle {n}\r\n"
                   f"Message-ID: <idle-{n}-{time.time()}@bench>\r\n\r\nping\r\n").encode()
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
            smtp.sendmail("bench@example.org", [server.user], message)
            accepted = time.perf_counter()
            while True:
                line = reader.readline()
                if re.match(rb"\* \d+ EXISTS", line):
                    times.append(time.perf_counter() - accepted)
                    break
        sock.sendall(b"DONE\r\n")
        while not reader.readline().startswith(f"i{n} ".encode()):
            pass
    sock.close()
    return times


def measure(server, args, mbox):
    # Memory first, on a fresh process: after minutes of load, a process has memory it freed
    # and new connections reuse, which would hide what they cost. INBOX holds as many messages
    # as imaptest keeps in it (30).
    core.fill(server, core.build_corpus(2, args.idle_messages), 2)
    imap = server.imap()
    core.wait_for(server, imap, args.idle_messages, settle=10)  # the reference delivers through a queue
    imap.logout()
    say(f"== {server.name}: memory per idle connection ({args.idle} connections, "
        f"{args.idle_messages} messages in INBOX)")
    plain, plain_held = per_idle_connection(server, args.idle, tls=False)
    tls, tls_held = per_idle_connection(server, args.idle, tls=True)
    for sock, reader in plain_held + tls_held:
        reader.close()  # the socket stays open while its file object is
        sock.close()
    del plain_held, tls_held
    time.sleep(1)
    say(f"   plain {plain:.1f} KiB, STARTTLS {tls:.1f} KiB")
    say(f"== {server.name}: imaptest default mix, {args.clients} clients, {args.secs} s")
    mix, mix_rate, mix_errors = imaptest(args.imaptest, server, mbox, args.clients, args.secs)
    say(f"   {mix_rate:.0f} commands/s, {len(mix_errors)} errors")
    for line in mix_errors[:10]:
        say("   " + line)
    say(f"== {server.name}: imaptest logins only, {args.clients} clients, {args.login_secs} s")
    logins, _, login_errors = imaptest(args.imaptest, server, mbox, args.clients, args.login_secs, ["-"])
    login_rate = logins.get("Logi", 0) / args.login_secs
    say(f"   {login_rate:.0f} logins/s, {len(login_errors)} errors")
    say(f"== {server.name}: IDLE latency after SMTP ({args.idle_rounds} messages)")
    latency = idle_latency(server, args.idle_rounds)
    say(f"   median {statistics.median(latency) * 1000:.1f} ms, max {max(latency) * 1000:.1f} ms")
    return {"mix": mix, "rate": mix_rate, "errors": len(mix_errors) + len(login_errors), "logins": login_rate,
            "plain": plain, "tls": tls, "latency": latency}


def report(facteur, ref):
    def row(name, f, r, unit, better_higher):
        ratio = (f / r if better_higher else r / f) if f and r else float("nan")
        print(f"| {name} | {f:.1f} {unit} | {r:.1f} {unit} | {ratio:.2f} |")

    print("| row | Facteur | Dovecot | ratio (above 1: Facteur better) |")
    print("|---|---|---|---|")
    row("imaptest default mix, commands/s", facteur["rate"], ref["rate"], "", True)
    row("imaptest logins/s", facteur["logins"], ref["logins"], "", True)
    row("memory per idle connection, plain", facteur["plain"], ref["plain"], "KiB", False)
    row("memory per idle connection, STARTTLS", facteur["tls"], ref["tls"], "KiB", False)
    fl, rl = (statistics.median(x["latency"]) * 1000 for x in (facteur, ref))
    row("IDLE notification after SMTP 250, median", fl, rl, "ms", False)
    fl, rl = (max(x["latency"]) * 1000 for x in (facteur, ref))
    row("IDLE notification after SMTP 250, worst", fl, rl, "ms", False)
    print(f"| imaptest errors (mix + logins) | {facteur['errors']} | {ref['errors']} | |")
    print("\nCommands in the mix (Facteur / Dovecot):",
          ", ".join(f"{k} {facteur['mix'].get(k, 0)}/{ref['mix'].get(k, 0)}" for k in facteur["mix"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     usage="%(prog)s --facteur PATH [options]")
    parser.add_argument("--facteur", required=True, metavar="PATH", help="the facteur binary to measure")
    parser.add_argument("--clients", type=int, default=20, help="imaptest clients (default 20)")
    parser.add_argument("--secs", type=int, default=60, help="seconds of the default mix (default 60)")
    parser.add_argument("--login-secs", type=int, default=20, help="seconds of the logins-only run (default 20)")
    parser.add_argument("-n", type=int, default=300, help="messages in imaptest's mbox (default 300)")
    parser.add_argument("--idle", type=int, default=72,
                        help="idle connections for each memory row (default 72; both rows' stay open together, "
                             "within Facteur's 200 per client)")
    parser.add_argument("--idle-messages", type=int, default=30,
                        help="messages in INBOX while the memory rows are measured (default 30, as imaptest keeps)")
    parser.add_argument("--idle-rounds", type=int, default=20, help="messages for the IDLE latency (default 20)")
    parser.add_argument("--ref", default=os.environ.get("REF", "/tmp/facteur-reference"), metavar="DIR",
                        help="the reference's folder (default $REF, else /tmp/facteur-reference)")
    args = parser.parse_args()
    args.imaptest = os.environ.get("IMAPTEST") or shutil.which("imaptest")
    if not args.imaptest:
        raise SystemExit("imaptest not found: build it from Dovecot's imaptest repository (against Debian's "
                         "dovecot-dev), outside this repository, and put it on PATH or in $IMAPTEST")
    ref = core.reference(args.ref)
    with tempfile.TemporaryDirectory(prefix="bench-imap-") as tmp:
        mbox = os.path.join(tmp, "messages.mbox")
        write_mbox(core.build_corpus(1, args.n), mbox)
        facteur = core.Facteur(args.facteur, FACTEUR_USERS, ["--plaintext-login-on-loopback", "true"])
        try:
            fresults = measure(facteur.start(), args, mbox)
        except BaseException:
            say(f"facteur's last log lines:\n{facteur.tail()}")
            raise
        finally:
            facteur.stop()
        core.empty_inbox(ref)
        rresults = measure(ref, args, mbox)
    report(fresults, rresults)


if __name__ == "__main__":
    sys.exit(main())
