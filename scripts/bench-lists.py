#!/usr/bin/env python3
"""Fan-out figure of the mailing lists (issue 18, A7, A8): how long a post takes to reach every
member once the MX said 250, for a list of N members on other servers and L mailboxes here.

Each member's copy is its own (its unsubscribe link, its VERP sender), stored or queued in a
transaction that records it. The members elsewhere are queued for a relay that is a closed
port, so the copies wait in the queue, where they are counted (the database, read-only, as
the server writes it); the mailboxes here are counted by their Inbox.

Reported per run: the seconds from the 250 to the last copy, and copies per second.

Usage: scripts/bench-lists.py [--remote N] [--local L] [--runs R] BINARY
Build with `scripts/build-site.sh release && cargo build --release -p server` first.
Only the Python standard library is used; everything stays on 127.0.0.1.
"""

import argparse
import os
import shutil
import smtplib
import sqlite3
import time

from bench_web import Server

PASSWORD = "bench password 1"
ADMIN = "admin@example.org"
DOMAIN = "example.org"
LIST = f"club@{DOMAIN}"


def copies(data, run):
    """Copies of run `run`'s post so far: queued recipients plus messages in Inboxes."""
    db = sqlite3.connect(f"file:{os.path.join(data, 'facteur.db')}?mode=ro", uri=True)
    try:
        queued, = db.execute("SELECT COUNT(*) FROM outbound_recipients").fetchone()
        stored, = db.execute("SELECT COUNT(*) FROM messages WHERE subject = ?", (f"Post {run}",)).fetchone()
        return queued, stored
    finally:
        db.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--remote", type=int, default=2000)
    parser.add_argument("--local", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("binary")
    args = parser.parse_args()
    server = Server(os.path.abspath(args.binary), "facteur-bench-lists-", DOMAIN, ADMIN, PASSWORD)
    try:
        server.admin("list", "create", LIST, "--kind", "discussion")
        remote = [f"member{n:05d}@elsewhere.test" for n in range(args.remote)]
        for start in range(0, len(remote), 500):
            server.admin("list", "add", LIST, *remote[start:start + 500])
        local = [f"local{n:03d}@{DOMAIN}" for n in range(args.local)]
        for address in local:
            server.admin("user", "add", address, "--password-stdin", stdin=PASSWORD + "\n")
        if local:
            server.admin("list", "add", LIST, *local)
        server.admin("list", "set", LIST, "--posting", "anyone")
        server.start(listeners=("http", "smtp"))
        members = args.remote + args.local
        print(f"{args.remote} members elsewhere, {args.local} here")
        for run in range(1, args.runs + 1):
            queued_before, _ = copies(server.data, run)
            message = f"From: jo@sender.test\r\nTo: {LIST}\r\nSubject: Post {run}\r\n\r\n" + "Hello list.\r\n" * 200
            with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=60) as smtp:
                smtp.sendmail("jo@sender.test", [LIST], message.encode())
            accepted = time.perf_counter()
            while True:
                queued, stored = copies(server.data, run)
                if queued - queued_before >= args.remote and stored >= args.local:
                    break
                if time.perf_counter() - accepted > 600:
                    raise SystemExit(f"run {run}: only {queued - queued_before} queued and {stored} stored")
                time.sleep(0.02)
            seconds = time.perf_counter() - accepted
            print(f"run {run}: {members} copies in {seconds:.2f} s ({members / seconds:.0f} copies/s)")
    finally:
        server.stop()
        shutil.rmtree(server.data, ignore_errors=True)


if __name__ == "__main__":
    main()
