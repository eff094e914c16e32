#!/usr/bin/env python3
"""Load tool: do honest clients of Facteur keep working while hostile clients attack it?

Starts a `facteur` binary on loopback with a fresh data folder, creates ana, bob and
carol@example.org, seeds ana's Inbox with 200 messages (one of 1 MB) and carol's with a 1 MB
message, then runs two phases of equal length:

  QUIET    honest clients only, all from 127.0.0.1:
             4 SMTP senders (EHLO, MAIL, RCPT to bob or carol, DATA of 5 KB, QUIT per message),
             4 IMAP readers (STARTTLS, LOGIN ana, SELECT INBOX, then UID FETCH / FETCH 1:* / NOOP),
             2 web readers (POST /api/login once, then GET /mail in a loop).
  HOSTILE  the same honest clients, plus, from other source addresses (127.0.0.2 and up):
             slowloris on every port (SMTP command lines and DATA, IMAP, IMAPS and HTTP headers
             trickled a byte every few seconds, reopened when the server closes them),
             oversized FETCHes (carol, on her own mailbox: items repeated hundreds of times,
             100 different 1 MB partials, 101 different items),
             login floods (wrong passwords for bob over IMAP, IMAPS and the web form),
             keyword floods (carol: STORE 1:* +FLAGS with 5,000 keywords, and similar).
           The hostile clients run in a separate process, so they do not share a GIL with the
           honest ones (they do share the machine's CPUs with the server).

For each kind of honest request it prints how many were done, the share that succeeded and
the p50 and p99 latency of each phase, and the ratio of the p99s; also the server's peak RSS
per phase (VmRSS, sampled every second), whether the server is still alive, and what the
hostile clients sent and how they were answered. The server's stderr goes to a log file.

Usage: scripts/load-hostile.py --facteur target/release/facteur [--seconds 60]
           [--memory-ceiling-mb 512] [--only-quiet] [--hostile slowloris,fetch,keywords,logins]
           [--hostile-nice N] [--server-log FILE]
Build with `scripts/build-site.sh release && cargo build --release -p server` first; a debug
build works but its latencies (argon2 above all) are not the release's. The machine running
this also runs the clients: the report gives the CPU time each side used, to judge how much
of a slowdown is the hostile clients' own CPU use rather than the server's.
Only the Python standard library is used; everything stays on 127.0.0.x (Linux routes all of
127.0.0.0/8 to loopback, which is how the hostile clients get their own addresses).

Exit code: 0 when every honest request succeeded in both phases, every kind's hostile p99 is
at most twice its quiet p99, the server's peak RSS stayed under the ceiling and the server is
still alive; 1 otherwise (2 for bad arguments).
"""

import argparse
import collections
import http.client
import imaplib
import itertools
import math
import multiprocessing
import os
import random
import re
import resource
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

# Facteur checks senders (SPF, DKIM, DMARC) by DNS; the reference does not, and these runs
# must not query the internet: off, like for like. A variable, which older binaries ignore.
NO_SENDER_CHECKS = {"FACTEUR_SENDER_CHECKS": "false"}

HOST = "127.0.0.1"
ANA, BOB, CAROL = "ana@example.org", "bob@example.org", "carol@example.org"
PASSWORDS = {ANA: "ana password 1", BOB: "bob password 2", CAROL: "carol password 3"}
SENDER = "sender@remote.test"
SEED_MESSAGES = 200
BIG_MESSAGE_BYTES = 1_000_000
HONEST_MESSAGE_BYTES = 5_000
TIMEOUT = 60  # seconds any one honest request may take before it counts as failed

SMTP_SENDERS, IMAP_READERS, WEB_READERS = 4, 4, 2
KINDS = ["smtp send", "imap command", "web /mail"]

# Hostile source addresses. Floods target bob, whom no honest client logs in as.
SLOWLORIS_SOURCES = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
FETCH_SOURCE = "127.0.0.6"
KEYWORD_SOURCE = "127.0.0.7"
FLOOD_SOURCES = ["127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"]
# Slowloris connections per source address, per kind; each listener's cap per client is
# SMTP 50 (and 16 DATA phases), IMAP 200, IMAPS 200, HTTP 100.
SLOWLORIS = {  # kind: (connections per source, seconds between two bytes)
    "smtp line": (30, 5),
    "smtp data": (10, 10),
    "imap": (40, 5),
    "imaps": (40, 5),
    "http": (40, 5),
}
FETCH_CONNECTIONS = 2
IMAP_FLOODERS_PER_SOURCE = 6
WEB_FLOODERS_PER_SOURCE = 3


def unverified_tls():
    """A TLS client context that accepts the server's self-signed certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


TLS = unverified_tls()


def message(to, subject, size):
    """A plain-text message of about `size` bytes."""
    line = "The quick brown fox jumps over the lazy dog, once more. 0123456789\r\n"
    body = line * (size // len(line) + 1)
    return (f"From: Sender <{SENDER}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{random.getrandbits(64):x}@remote.test>\r\n\r\n{body}")


# ----- The server -----

class Server:
    """A `facteur serve` with a fresh data folder; stderr (and later stdout) go to a log."""

    def __init__(self, binary, log_path):
        self.binary = binary
        self.log_path = log_path
        self.data = tempfile.mkdtemp(prefix="facteur-hostile-")
        self.process = None
        self.ports = {}

    def admin(self, *args, stdin=None):
        subprocess.run([self.binary, "admin", "--data", self.data, *args], input=stdin,
                       check=True, capture_output=True, text=True)

    def create_users(self):
        self.admin("domain", "add", "example.org")
        for login, password in PASSWORDS.items():
            self.admin("user", "add", login, "--password-stdin", stdin=password + "\n")

    def start(self):
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data", self.data, "--http", f"{HOST}:0",
             "--smtp", f"{HOST}:0", "--imap", f"{HOST}:0", "--imaps", f"{HOST}:0",
             "--submission", "off", "--submissions", "off"],
            stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "FACTEUR_LOG": "warn", **NO_SENDER_CHECKS})
        for line in self.process.stdout:
            match = re.match(r"facteur: (\w+) listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                self.ports[match[1]] = int(match[2])
            if line.strip() == "facteur: ready":
                break
        else:
            sys.exit(f"facteur exited before it was ready; see {self.log_path}")
        # Keep reading stdout so the server never blocks on a full pipe.
        threading.Thread(target=self._drain, args=(log,), daemon=True).start()

    def _drain(self, log):
        for line in self.process.stdout:
            log.write("stdout: " + line)
            log.flush()

    def alive(self):
        return self.process.poll() is None

    def rss_mb(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def cpu_seconds(self):
        """User and system CPU time the server has used so far."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return math.nan

    def stop(self):
        if self.process and self.alive():
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data, ignore_errors=True)


def seed(ports):
    """Carol gets the 1 MB message first (so it is her message 1), then ana's Inbox is filled."""
    smtp = smtplib.SMTP(HOST, ports["smtp"], timeout=120)
    smtp.sendmail(SENDER, [CAROL], message(CAROL, "carol big", BIG_MESSAGE_BYTES))
    for i in range(3):
        smtp.sendmail(SENDER, [CAROL], message(CAROL, f"carol {i}", HONEST_MESSAGE_BYTES))
    for i in range(SEED_MESSAGES):
        size = BIG_MESSAGE_BYTES if i == SEED_MESSAGES // 2 else 2_000
        smtp.sendmail(SENDER, [ANA], message(ANA, f"seed {i}", size))
    smtp.quit()


class RssSampler(threading.Thread):
    """Reads the server's RSS every second and keeps the peak of each phase."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.phase = "start"
        self.peaks = collections.defaultdict(float)

    def run(self):
        while self.server.alive():
            rss = self.server.rss_mb()
            self.peaks[self.phase] = max(self.peaks[self.phase], rss)
            time.sleep(1)


def own_cpu_seconds():
    """User and system CPU time this process (all its threads) has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ----- Honest clients -----

class Recorder:
    """Every honest request: its kind, whether it succeeded, how long it took, why it failed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples = {kind: [] for kind in KINDS}
        self.errors = {kind: collections.Counter() for kind in KINDS}

    def add(self, kind, ok, seconds, error=None):
        with self.lock:
            self.samples[kind].append((ok, seconds))
            if not ok:
                self.errors[kind][error or "failed"] += 1


def smtp_sender(ports, stop, recorder, index, started):
    rng = random.Random(index)
    started()
    while not stop.is_set():
        to = rng.choice([BOB, CAROL])
        text = message(to, f"honest {index}", HONEST_MESSAGE_BYTES)
        start = time.perf_counter()
        ok, error, smtp = False, None, None
        try:
            smtp = smtplib.SMTP(HOST, ports["smtp"], timeout=TIMEOUT)
            smtp.ehlo("honest.test")
            code, reply = smtp.mail(SENDER)
            if code == 250:
                code, reply = smtp.rcpt(to)
            if code != 250:
                raise smtplib.SMTPException(f"MAIL/RCPT {code} {reply!r}")
            code, reply = smtp.data(text)
            ok, error = code == 250, f"DATA {code} {reply!r}"
            smtp.quit()
        except (OSError, smtplib.SMTPException) as e:
            error = f"{type(e).__name__}: {e}"
        finally:
            if smtp:
                smtp.close()
        recorder.add("smtp send", ok, time.perf_counter() - start, error)
        if not ok:
            time.sleep(0.1)


def imap_session(ports):
    imap = imaplib.IMAP4(HOST, ports["imap"], timeout=TIMEOUT)
    imap.starttls(ssl_context=TLS)
    imap.login(ANA, PASSWORDS[ANA])
    typ, data = imap.select("INBOX")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"SELECT {typ} {data}")
    return imap, int(data[0])


def imap_command(imap, rng, exists):
    """One honest IMAP command; returns its status ("OK", "NO", ...)."""
    choice = rng.random()
    if choice < 0.8:
        uid = str(rng.randint(1, exists))
        typ, _ = imap.uid("FETCH", uid, "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])")
    elif choice < 0.9:
        typ, _ = imap.fetch("1:*", "(FLAGS)")
    else:
        typ, _ = imap.noop()
    return typ


def imap_login(ports, recorder):
    """(connection, messages in the Inbox), or None once the failure is recorded."""
    try:
        return imap_session(ports)
    except (OSError, imaplib.IMAP4.error) as e:
        recorder.add("imap command", False, 0.0, f"login: {type(e).__name__}: {e}")
        return None


def quietly(close):
    try:
        close()
    except (OSError, imaplib.IMAP4.error):
        pass


def imap_reader(ports, stop, recorder, index, started):
    rng = random.Random(100 + index)
    session = imap_login(ports, recorder)  # before the clock starts: logins are not timed
    started()
    while not stop.is_set():
        if session is None:
            time.sleep(0.1)
            session = imap_login(ports, recorder)
            continue
        imap, exists = session
        start = time.perf_counter()
        try:
            typ = imap_command(imap, rng, exists)
            recorder.add("imap command", typ == "OK", time.perf_counter() - start, f"tagged {typ}")
        except (OSError, imaplib.IMAP4.error) as e:
            recorder.add("imap command", False, time.perf_counter() - start, f"{type(e).__name__}: {e}")
            quietly(imap.shutdown)
            session = None
    if session:
        quietly(session[0].logout)


def web_login(ports):
    """Signs ana in; returns the session cookie (`facteur_session=...`)."""
    web = http.client.HTTPConnection(HOST, ports["http"], timeout=TIMEOUT)
    form = urllib.parse.urlencode({"email": ANA, "password": PASSWORDS[ANA]})
    web.request("POST", "/api/login", form, {
        "content-type": "application/x-www-form-urlencoded",
        "origin": f"http://{HOST}:{ports['http']}"})
    response = web.getresponse()
    response.read()
    web.close()
    cookie = re.search(r"facteur_session=[^;,\s]+", response.getheader("set-cookie") or "")
    if not cookie:
        raise RuntimeError(f"login answered {response.status} {response.getheader('location')}")
    return cookie[0]


def web_page(ports, cookie):
    """GET /mail on a new connection; returns the status."""
    web = http.client.HTTPConnection(HOST, ports["http"], timeout=TIMEOUT)
    try:
        web.request("GET", "/mail", headers={"cookie": cookie})
        response = web.getresponse()
        response.read()
        return response.status
    finally:
        web.close()


def web_sign_in(ports, recorder):
    """The session cookie, or None once the failure is recorded."""
    try:
        return web_login(ports)
    except (OSError, http.client.HTTPException, RuntimeError) as e:
        recorder.add("web /mail", False, 0.0, f"login: {type(e).__name__}: {e}")
        return None


def web_reader(ports, stop, recorder, index, started):
    cookie = web_sign_in(ports, recorder)  # before the clock starts: logins are not timed
    started()
    while not stop.is_set():
        if cookie is None:
            time.sleep(0.1)
            cookie = web_sign_in(ports, recorder)
            continue
        start = time.perf_counter()
        try:
            status = web_page(ports, cookie)
            recorder.add("web /mail", status == 200, time.perf_counter() - start, f"HTTP {status}")
        except (OSError, http.client.HTTPException) as e:
            recorder.add("web /mail", False, time.perf_counter() - start, f"{type(e).__name__}: {e}")
            time.sleep(0.1)


def run_honest(ports, seconds):
    """Runs every honest client for `seconds`, counted from when all have logged in;
    returns their Recorder."""
    recorder, stop = Recorder(), threading.Event()
    ready, go = threading.Semaphore(0), threading.Event()

    def started():
        ready.release()
        go.wait()

    workers = ([(smtp_sender, i) for i in range(SMTP_SENDERS)]
               + [(imap_reader, i) for i in range(IMAP_READERS)]
               + [(web_reader, i) for i in range(WEB_READERS)])
    threads = [threading.Thread(target=work, args=(ports, stop, recorder, i, started), daemon=True)
               for work, i in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 2 * TIMEOUT
    for _ in threads:
        ready.acquire(timeout=max(0.0, deadline - time.monotonic()))
    go.set()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(TIMEOUT + 5)
    return recorder


# ----- Hostile clients (run in their own process) -----

class Tally:
    """Counts of hostile events, by name, shared by the hostile threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.held = {}  # (kind, source): slowloris connections open now
        self.peak_held = collections.Counter()  # kind: most held at once
        self.ready = 0

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] += n

    def hold(self, kind, source, n):
        with self.lock:
            self.held[(kind, source)] = n

    def note_peaks(self):
        with self.lock:
            now = collections.Counter()
            for (kind, _), n in self.held.items():
                now[kind] += n
            for kind, n in now.items():
                self.peak_held[kind] = max(self.peak_held[kind], n)
            self.peak_held["all"] = max(self.peak_held["all"], sum(now.values()))

    def set_ready(self):
        with self.lock:
            self.ready += 1


def connect(port, source, tls=False):
    sock = socket.create_connection((HOST, port), timeout=TIMEOUT, source_address=(source, 0))
    return TLS.wrap_socket(sock) if tls else sock


class RawImap:
    """A minimal IMAP client: sends a command line, reads to its tagged answer (skipping
    literals, so megabytes can be read cheaply) and says how it was answered."""

    LITERAL = re.compile(rb"\{(\d+)\}\r\n$")

    def __init__(self, port, source, tls):
        self.sock = connect(port, source, tls)
        self.file = self.sock.makefile("rb")
        self.tag = 0
        self.bytes_read = 0
        self.line()  # the greeting

    def line(self):
        line = self.file.readline(1 << 20)
        if not line:
            raise ConnectionError("closed by the server")
        self.bytes_read += len(line)
        return line

    def skip(self, n):
        while n > 0:
            chunk = self.file.read(min(n, 1 << 20))
            if not chunk:
                raise ConnectionError("closed by the server")
            n -= len(chunk)
            self.bytes_read += len(chunk)

    def command(self, text):
        """Sends `text`; returns the answer as e.g. "OK", "NO [LIMIT]", "BAD"."""
        self.tag += 1
        tag = b"x%d " % self.tag
        self.sock.sendall(tag + text.encode() + b"\r\n")
        while True:
            line = self.line()
            literal = self.LITERAL.search(line)
            if literal:
                self.skip(int(literal[1]))
            elif line.startswith(tag):
                words = line[len(tag):].decode(errors="replace").split() or ["?"]
                if len(words) > 1 and words[1].startswith("["):
                    return f"{words[0]} {words[1].rstrip(']')}]"
                return words[0]

    def starttls(self):
        if not self.command("STARTTLS").startswith("OK"):
            raise ConnectionError("STARTTLS refused")
        self.sock = TLS.wrap_socket(self.sock)
        self.file = self.sock.makefile("rb")

    def login(self, login, password):
        return self.command(f'LOGIN "{login}" "{password}"')

    def close(self):
        try:
            self.file.close()  # the socket's descriptor stays open while its file is
            self.sock.close()
        except OSError:
            pass


def carol_session(ports, source):
    imap = RawImap(ports["imaps"], source, tls=True)
    for text in (f'LOGIN "{CAROL}" "{PASSWORDS[CAROL]}"', "SELECT INBOX"):
        answer = imap.command(text)
        if not answer.startswith("OK"):  # e.g. "OK [CAPABILITY]", "OK [READ-WRITE]"
            raise ConnectionError(f"{text.split()[0]} answered {answer}")
    return imap


def fetch_commands():
    """Oversized FETCHes: an item repeated 300 times, 100 different 1 MB partials of
    message 1 (about 100 MB of answer), 101 different items (over the cap), a mix repeated."""
    repeated = " ".join(["BODY[]"] * 300)
    partials = " ".join(f"BODY.PEEK[]<{i}.1000000>" for i in range(100))
    too_many = " ".join(f"BODY.PEEK[HEADER.FIELDS (X-{i})]" for i in range(101))
    mix = " ".join(["ENVELOPE", "BODYSTRUCTURE", "BODY.PEEK[TEXT]", "RFC822.SIZE"] * 200)
    return [f"FETCH 1:* ({repeated})", f"FETCH 1 ({partials})",
            f"FETCH 1:* ({too_many})", f"FETCH 1:* ({mix})"]


def keyword_commands(round_number):
    """Keyword floods: 5,000 keywords at once, 64 fresh ones (then removed), a 200-byte one."""
    fresh = " ".join(f"r{round_number}k{i}" for i in range(64))
    return [
        "STORE 1:* +FLAGS (" + " ".join(f"k{i}" for i in range(5000)) + ")",
        f"STORE 1:* +FLAGS ({fresh})",
        f"STORE 1:* -FLAGS ({fresh})",
        "STORE 1 +FLAGS (" + "k" * 200 + ")",
    ]


def logged_in_flood(name, commands_of_round, ports, source, stop, tally):
    """Logs in as carol from `source` and sends the round's commands over and over."""
    imap, rounds = None, itertools.count()
    while not stop.is_set():
        try:
            if imap is None:
                imap = carol_session(ports, source)
                tally.set_ready()
            for text in commands_of_round(next(rounds)):
                if stop.is_set():
                    break
                before = imap.bytes_read
                tally.add(f"{name} {imap.command(text)}")
                tally.add(f"{name} bytes", imap.bytes_read - before)
        except (OSError, ValueError) as e:
            tally.add(f"{name} connection lost ({type(e).__name__}: {str(e)[:60]})")
            if imap:
                imap.close()
            imap = None
            stop.wait(1)
    if imap:
        imap.close()


def imap_login_flood(ports, source, stop, tally, index):
    """Wrong passwords for bob, over IMAPS or IMAP + STARTTLS, reconnecting after each BYE."""
    for attempt in itertools.count():
        if stop.is_set():
            return
        imap = None
        try:
            if (index + attempt) % 2:
                imap = RawImap(ports["imaps"], source, tls=True)
            else:
                imap = RawImap(ports["imap"], source, tls=False)
                imap.starttls()
            for guess in range(3):
                if stop.is_set():
                    break
                tally.add(f"login imap {imap.login(BOB, f'guess {attempt} {guess}')}")
        except (OSError, ValueError) as e:
            tally.add(f"login imap connection lost ({type(e).__name__})")
            stop.wait(0.2)
        finally:
            if imap:
                imap.close()


def web_login_flood(ports, source, stop, tally):
    """Wrong passwords for bob through the web sign-in form."""
    for attempt in itertools.count():
        if stop.is_set():
            return
        web = http.client.HTTPConnection(HOST, ports["http"], timeout=TIMEOUT,
                                         source_address=(source, 0))
        try:
            form = urllib.parse.urlencode({"email": BOB, "password": f"guess {attempt}"})
            web.request("POST", "/api/login", form, {
                "content-type": "application/x-www-form-urlencoded",
                "origin": f"http://{HOST}:{ports['http']}"})
            response = web.getresponse()
            response.read()
            error = re.search(r"error=(\w+)", response.getheader("location") or "")
            tally.add(f"login web {error[1] if error else f'HTTP {response.status}'}")
        except (OSError, http.client.HTTPException) as e:
            tally.add(f"login web connection lost ({type(e).__name__})")
            stop.wait(0.2)
        finally:
            web.close()


def one_by_one(data):
    """The bytes of `data`, each as a bytes object of its own."""
    return [data[i:i + 1] for i in range(len(data))]


class SlowConnection:
    """One slowloris connection: set up, then one byte sent every `interval` seconds."""

    def __init__(self, kind, ports, source, interval):
        self.interval = interval
        self.next_send = time.monotonic() + random.uniform(0, interval)
        self.keep = None  # an smtplib object that must outlive its socket
        self.sock, self.payload = self.open(kind, ports, source)
        self.sock.setblocking(False)

    def open(self, kind, ports, source):
        if kind == "smtp line":
            sock = connect(ports["smtp"], source)
            sock.sendall(b"MAIL FROM:<")
            return sock, itertools.repeat(b"a")
        if kind == "smtp data":
            return self.open_data(ports, source)
        if kind in ("imap", "imaps"):
            sock = connect(ports[kind], source, tls=kind == "imaps")
            sock.sendall(b"s1 LOGIN ")
            return sock, itertools.repeat(b"x")
        sock = connect(ports["http"], source)
        sock.sendall(f"GET /mail HTTP/1.1\r\nHost: {HOST}\r\n".encode())
        return sock, itertools.cycle(one_by_one(b"X-Slow: 1\r\n"))

    def open_data(self, ports, source):
        smtp = smtplib.SMTP(HOST, ports["smtp"], timeout=TIMEOUT, source_address=(source, 0))
        smtp.ehlo("slow.test")
        smtp.mail(SENDER)
        smtp.rcpt(BOB)
        smtp.putcmd("DATA")
        code, reply = smtp.getreply()
        if code != 354:
            smtp.close()
            raise ConnectionError(f"DATA answered {code}")
        self.keep = smtp
        header = f"From: <{SENDER}>\r\nTo: <{BOB}>\r\nSubject: slow\r\n\r\n".encode()
        return smtp.sock, itertools.chain(one_by_one(header), itertools.repeat(b"x"))

    def tick(self, now):
        """Drains what the server said and sends the next byte when due; False once closed."""
        try:
            if not self.sock.recv(65536):
                return False
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        except OSError:
            return False
        if now >= self.next_send:
            self.next_send = now + self.interval
            try:
                self.sock.send(next(self.payload))
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except OSError:
                return False
        return True

    def close(self):
        try:
            (self.keep or self.sock).close()  # smtplib also closes the file it reads through
        except OSError:
            pass


def slowloris(kind, source, ports, stop, tally):
    """Holds SLOWLORIS[kind] connections from `source`, reopening those the server closes."""
    count, interval = SLOWLORIS[kind]
    connections, first = [], True
    while not stop.is_set():
        while len(connections) < count and not stop.is_set():
            try:
                connections.append(SlowConnection(kind, ports, source, interval))
                tally.add(f"slow opened {kind}")
            except (OSError, smtplib.SMTPException) as e:
                tally.add(f"slow refused {kind} ({type(e).__name__})")
                break
        if first:
            tally.set_ready()
            first = False
        now = time.monotonic()
        for connection in list(connections):
            if not connection.tick(now):
                connection.close()
                connections.remove(connection)
                tally.add(f"slow closed {kind}")
        tally.hold(kind, source, len(connections))
        stop.wait(1)
    for connection in connections:
        connection.close()


HOSTILE_KINDS = ["slowloris", "fetch", "keywords", "logins"]


def hostile_threads(kinds, ports, stop, tally):
    """The hostile clients of `kinds`, as threads not started yet, and how many of them
    say when they are set up (`Tally.set_ready`)."""
    threads, ready = [], 0
    if "slowloris" in kinds:
        for kind in SLOWLORIS:
            for source in SLOWLORIS_SOURCES:
                threads.append(threading.Thread(target=slowloris, args=(kind, source, ports, stop, tally)))
        ready += len(SLOWLORIS) * len(SLOWLORIS_SOURCES)
    if "fetch" in kinds:
        for _ in range(FETCH_CONNECTIONS):
            threads.append(threading.Thread(target=logged_in_flood, args=(
                "fetch", lambda _round: fetch_commands(), ports, FETCH_SOURCE, stop, tally)))
        ready += FETCH_CONNECTIONS
    if "keywords" in kinds:
        threads.append(threading.Thread(target=logged_in_flood, args=(
            "keywords", keyword_commands, ports, KEYWORD_SOURCE, stop, tally)))
        ready += 1
    if "logins" in kinds:
        for source in FLOOD_SOURCES:
            for i in range(IMAP_FLOODERS_PER_SOURCE):
                threads.append(threading.Thread(target=imap_login_flood, args=(ports, source, stop, tally, i)))
            for _ in range(WEB_FLOODERS_PER_SOURCE):
                threads.append(threading.Thread(target=web_login_flood, args=(ports, source, stop, tally)))
    return threads, ready


def hostile_main(kinds, ports, nice, go_stop, ready, results):
    """The hostile process: runs the hostile clients of `kinds` until `go_stop` is set, then
    sends its tally back through `results`."""
    os.nice(nice)
    stop, tally = threading.Event(), Tally()
    threads, expected = hostile_threads(kinds, ports, stop, tally)
    for thread in threads:
        thread.daemon = True
        thread.start()
    deadline = time.monotonic() + 30
    while not go_stop.is_set():
        tally.note_peaks()
        if not ready.is_set() and (tally.ready >= expected or time.monotonic() > deadline):
            ready.set()
        go_stop.wait(1)
    stop.set()
    end = time.monotonic() + 10
    for thread in threads:
        thread.join(max(0.1, end - time.monotonic()))
    with tally.lock:
        results.put((dict(tally.counts), dict(tally.peak_held), own_cpu_seconds()))


# ----- Phases and the report -----

class Phase:
    """What one phase measured: the honest requests, the hostile tally (counts, peaks of
    slowloris connections held, CPU seconds) if any, and CPU seconds used meanwhile."""

    def __init__(self, recorder, tally, cpu):
        self.recorder, self.tally, self.cpu = recorder, tally, cpu


def run_phase(name, server, sampler, seconds, hostile_kinds=(), hostile_nice=0):
    """Runs the honest clients for `seconds`, with the hostile process alongside if
    `hostile_kinds` names any."""
    print(f"{name} phase: {seconds} s", file=sys.stderr, flush=True)
    sampler.phase = name
    process = None
    if hostile_kinds:
        spawn = multiprocessing.get_context("spawn")
        go_stop, ready, results = spawn.Event(), spawn.Event(), spawn.Queue()
        process = spawn.Process(target=hostile_main,
                                args=(hostile_kinds, server.ports, hostile_nice, go_stop, ready, results),
                                daemon=True)
        process.start()
        ready.wait(60)
        time.sleep(2)  # let the floods get going before the honest clients start
    server_cpu, honest_cpu = server.cpu_seconds(), own_cpu_seconds()
    recorder = run_honest(server.ports, seconds)
    cpu = {"server": server.cpu_seconds() - server_cpu, "honest clients": own_cpu_seconds() - honest_cpu}
    tally = None
    if process:
        go_stop.set()
        try:
            tally = results.get(timeout=60)
            cpu["hostile clients (with their ramp)"] = tally[2]
        except Exception:  # queue.Empty: the process did not answer
            tally = ({"hostile process gave no tally": 1}, {}, math.nan)
        process.join(10)
        if process.is_alive():
            process.terminate()
    sampler.phase = f"after {name}"
    return Phase(recorder, tally, cpu)


def percentile(values, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(recorder, kind):
    """(n, ok %, p50 ms, p99 ms) of one kind, over all its requests, failed ones included."""
    samples = recorder.samples[kind]
    if not samples:
        return 0, 0.0, math.nan, math.nan
    ok = sum(1 for good, _ in samples if good)
    latencies = [seconds * 1000 for _, seconds in samples]
    return len(samples), 100 * ok / len(samples), percentile(latencies, 0.5), percentile(latencies, 0.99)


def verdict(quiet, hostile):
    """(passed, words) for one kind."""
    problems = []
    if quiet[0] == 0 or quiet[1] < 100:
        problems.append("quiet failures")
    if hostile is not None:
        if hostile[0] == 0 or hostile[1] < 100:
            problems.append("hostile failures")
        ratio = hostile[3] / quiet[3] if quiet[0] and hostile[0] else math.inf
        if not ratio <= 2:
            problems.append("p99 over 2x")
    return not problems, "ok" if not problems else "FAIL: " + ", ".join(problems)


def columns(figures):
    n, ok, p50, p99 = figures
    return f"{n:7d} {ok:6.1f} {p50:7.1f} {p99:7.1f}"


def report_honest(quiet, hostile):
    """Prints the honest table; returns True if every kind passed."""
    header = f"{'honest':<14}  quiet:{'n':>7} {'ok%':>6} {'p50':>7} {'p99':>7}"
    if hostile:
        header += f"   hostile:{'n':>7} {'ok%':>6} {'p50':>7} {'p99':>7}   p99 ratio  verdict"
    else:
        header += "  verdict"
    print(header)
    passed = True
    for kind in KINDS:
        q = summary(quiet, kind)
        h = summary(hostile, kind) if hostile else None
        good, words = verdict(q, h)
        passed &= good
        line = f"{kind:<14}  {'':6}{columns(q)}"
        if h:
            ratio = h[3] / q[3] if q[0] and h[0] else math.nan
            line += f"   {'':8}{columns(h)}   {ratio:9.2f}"
        print(f"{line}  {words}")
    print("(latencies in ms; p50/p99 over all requests of the phase, failed ones included)")
    return passed


def report_errors(label, recorder):
    for kind in KINDS:
        for error, n in recorder.errors[kind].most_common(5):
            print(f"  {label} {kind} failed {n}x: {error}")


def report_hostile(tally):
    counts, peaks, _ = tally
    held = ", ".join(f"{kind} {peaks.get(kind, 0)}" for kind in SLOWLORIS)
    closed = {kind: counts.get(f"slow closed {kind}", 0) for kind in SLOWLORIS}
    refused = sum(n for name, n in counts.items() if name.startswith("slow refused"))
    print(f"hostile traffic: slowloris connections held at peak {peaks.get('all', 0)} ({held}); "
          f"closed by the server and reopened {sum(closed.values())} "
          f"({', '.join(f'{kind} {n}' for kind, n in closed.items())}); refused at opening {refused}")
    for group in ("fetch", "keywords", "login imap", "login web"):
        answers = {name[len(group) + 1:]: n for name, n in counts.items()
                   if name.startswith(group + " ") and not name.endswith(" bytes")}
        line = ", ".join(f"{answer} {n}" for answer, n in sorted(answers.items()))
        megabytes = counts.get(f"{group} bytes", 0) / 1e6
        extra = f"; {megabytes:,.1f} MB read" if megabytes else ""
        print(f"  {group:<10} {sum(answers.values()):6d} answered: {line or 'nothing'}{extra}")
    for name, n in sorted(counts.items()):
        if name.startswith("slow refused") or name.startswith("hostile process"):
            print(f"  {name}: {n}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facteur", required=True, help="the facteur binary")
    parser.add_argument("--seconds", type=int, default=60, help="length of each phase (default 60)")
    parser.add_argument("--memory-ceiling-mb", type=float, default=512,
                        help="the server's RSS must stay under this (default 512)")
    parser.add_argument("--only-quiet", action="store_true", help="skip the hostile phase")
    parser.add_argument("--hostile", type=lambda text: text.split(","), default=HOSTILE_KINDS,
                        help=f"which hostile clients to run, comma-separated (default all: "
                             f"{','.join(HOSTILE_KINDS)})")
    parser.add_argument("--hostile-nice", type=int, default=0,
                        help="niceness of the hostile client process (default 0; 19 approximates "
                             "attackers with CPUs of their own)")
    parser.add_argument("--server-log", default=os.path.join(tempfile.gettempdir(),
                        f"facteur-load-hostile-{os.getpid()}.log"), help="where the server's stderr goes")
    args = parser.parse_args()
    if not set(args.hostile) <= set(HOSTILE_KINDS):
        parser.error(f"--hostile takes some of {','.join(HOSTILE_KINDS)}")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    server = Server(args.facteur, args.server_log)
    try:
        server.create_users()
        server.start()
        sampler = RssSampler(server)
        sampler.start()
        print("seeding...", file=sys.stderr, flush=True)
        seed(server.ports)
        quiet = run_phase("quiet", server, sampler, args.seconds)
        hostile = None if args.only_quiet else run_phase(
            "hostile", server, sampler, args.seconds, args.hostile, args.hostile_nice)
        time.sleep(1.5)  # one more RSS sample after the phase
        return report(args, server, sampler, quiet, hostile)
    finally:
        server.stop()


def report(args, server, sampler, quiet, hostile):
    """Prints everything; returns the exit code."""
    alive = server.alive()
    passed = report_honest(quiet.recorder, hostile and hostile.recorder)
    report_errors("quiet", quiet.recorder)
    if hostile:
        report_errors("hostile", hostile.recorder)
    peaks = {phase: max(sampler.peaks[phase], sampler.peaks[f"after {phase}"])
             for phase in ("quiet", "hostile")}
    rss = f"peak RSS (MB)   quiet {peaks['quiet']:.0f}"
    if hostile:
        rss += f"   hostile {peaks['hostile']:.0f}"
    print(f"{rss}   at the end {server.rss_mb():.0f}   ceiling {args.memory_ceiling_mb:.0f}")
    if max(peaks.values()) >= args.memory_ceiling_mb:
        print("FAIL: the server's RSS reached the memory ceiling")
        passed = False
    if alive:
        print("server alive: yes")
    else:
        print(f"!!!!! SERVER DIED (exit status {server.process.returncode}); see {server.log_path} !!!!!")
        passed = False
    for name, phase in (("quiet", quiet), ("hostile", hostile)):
        if phase:
            used = ", ".join(f"{who} {seconds:.1f}" for who, seconds in phase.cpu.items())
            print(f"CPU seconds, {name}: {used} (phase {args.seconds} s, {os.cpu_count()} CPUs)")
    if hostile:
        print(f"hostile clients run: {', '.join(args.hostile)}")
        report_hostile(hostile.tally)
    print(f"server log: {server.log_path}")
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
