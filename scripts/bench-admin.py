#!/usr/bin/env python3
"""Load figure of the administration (issue 18): its pages with 10,000 mailboxes and 50,000
aliases in one domain (by default), rendered by the server as a browser gets them.

The domain is filled straight into the data folder's database (Python's sqlite3, the server
stopped): 60,000 `facteur admin` calls would each hash a password (argon2, on purpose slow) and
take hours, and what is measured here is reading the rows, not making them. The mailboxes get
their account and address rows, the aliases their address and one or two targets each, as the
store writes them; nothing else (folders, mail) is read by the pages measured.

Then the server runs and, signed in as a server administrator, each page is fetched R times
(after one to warm up): mailboxes (first and last page, a filter), aliases (first and last
page, a filter on the address, one on a target), one mailbox alone. Reported: p50 and p95 in
ms, and the rows the page shows (so a page that silently lost its rows is seen).

Usage: scripts/bench-admin.py [--mailboxes N] [--aliases N] [--runs R] BINARY
Build with `scripts/build-site.sh release && cargo build --release -p server` first.
Only the Python standard library is used; everything stays on 127.0.0.1.
"""

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import time

from bench_web import Server, web_session

PASSWORD = "bench password 1"
ADMIN = "admin@example.org"
DOMAIN = "example.org"


def fill(data, mailboxes, aliases):
    """Adds `mailboxes` accounts and `aliases` aliases to the domain, as the store writes them."""
    db = sqlite3.connect(os.path.join(data, "facteur.db"))
    domain_id, = db.execute("SELECT id FROM domains WHERE name = ?", (DOMAIN,)).fetchone()
    password_hash, = db.execute("SELECT password_hash FROM accounts WHERE login = ?", (ADMIN,)).fetchone()
    now = int(time.time())
    first_names = ["ana", "bob", "carla", "david", "eve", "farid", "gaelle", "hugo", "ines", "jules"]
    with db:
        for n in range(mailboxes):
            login = f"user{n:05d}@{DOMAIN}"
            name = f"{first_names[n % len(first_names)].title()} Martin {n}"
            account_id = db.execute(
                "INSERT INTO accounts (domain_id, login, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)"
                " RETURNING id", (domain_id, login, name, password_hash, now)).fetchone()[0]
            db.execute("INSERT INTO addresses (domain_id, local_part, kind, account_id) VALUES (?, ?, 'mailbox', ?)",
                       (domain_id, login.split("@")[0], account_id))
        rng = random.Random(18)
        for n in range(aliases):
            address_id = db.execute(
                "INSERT INTO addresses (domain_id, local_part, kind) VALUES (?, ?, 'alias') RETURNING id",
                (domain_id, f"alias{n:05d}")).fetchone()[0]
            for target in {f"user{rng.randrange(mailboxes):05d}@{DOMAIN}" for _ in range(1 + n % 2)}:
                db.execute("INSERT INTO alias_targets (address_id, target) VALUES (?, ?)", (address_id, target))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def page_ms(connection, cookie, path):
    start = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    page = response.read()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status}")
    rows = page.count(b'class="admin-mailbox"') + page.count(b'class="admin-alias"')
    return elapsed, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--mailboxes", type=int, default=10_000)
    parser.add_argument("--aliases", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    server = Server(os.path.abspath(args.binary), "facteur-bench-admin-", DOMAIN, ADMIN, PASSWORD)
    try:
        started = time.perf_counter()
        fill(server.data, args.mailboxes, args.aliases)
        print(f"filled {args.mailboxes} mailboxes and {args.aliases} aliases in {time.perf_counter() - started:.1f} s")
        server.start()
        connection, cookie = web_session(server.port, ADMIN, PASSWORD)
        last_mailboxes = (args.mailboxes + 1 + 49) // 50
        last_aliases = (args.aliases + 49) // 50
        base = f"/admin?domain={DOMAIN}"
        pages = [
            ("mailboxes, first page", base),
            ("mailboxes, last page", f"{base}&page={last_mailboxes}"),
            ("mailboxes, filter 'martin 123'", f"{base}&q=martin+123"),
            ("aliases, first page", f"{base}&view=aliases"),
            ("aliases, last page", f"{base}&view=aliases&page={last_aliases}"),
            ("aliases, filter on address", f"{base}&view=aliases&q=alias4999"),
            ("aliases, filter on a target", f"{base}&view=aliases&q=user00042%40"),
            ("one mailbox", f"{base}&view=mailbox&mailbox=user{args.mailboxes // 2:05d}%40{DOMAIN}"),
        ]
        print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}")
        for name, path in pages:
            page_ms(connection, cookie, path)  # warm
            runs = [page_ms(connection, cookie, path) for _ in range(args.runs)]
            times = sorted(ms for ms, _ in runs)
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{name:32} {statistics.median(times):8.1f} {p95:8.1f} {runs[0][1]:5d}")
    finally:
        server.stop()
        shutil.rmtree(server.data, ignore_errors=True)


if __name__ == "__main__":
    main()
