#!/usr/bin/env python3
"""Benchmark: Facteur against the classic pipeline (Postfix -> Dovecot LMTP -> Dovecot IMAP).

Runs the same workload against a `facteur` binary (started here on loopback with a fresh data
folder) and against the reference pipeline in ../shared/reference (started beforehand with its
start.sh). Both Inboxes get the same N realistic messages (generated from a seed: plain,
multipart/alternative, attachments, French names and subjects, replies), sent by SMTP, then:

- IMAP over STARTTLS, one connection, median of 3 runs: FETCH 1:* of FLAGS etc., ENVELOPE,
  BODYSTRUCTURE and three header fields; 200 UID FETCH BODY.PEEK[] of the same seeded messages;
  UID STORE 1:* +FLAGS (\\Seen) (undone afterwards, untimed); 200 NOOP.
- Memory: the server's RSS after 400 logins (STARTTLS, LOGIN, LOGOUT) from 8 threads. Facteur is
  one process; for Dovecot it is the sum over its master process and its children, but not its
  lmtp processes (delivery, idle since the fill; shown apart, like Postfix's processes).
- SMTP ingest with Postfix's smtp-source at 1, 16 and 20 sessions: messages per second accepted,
  messages per second until all are visible over IMAP (STATUS), and how many were stored.

Facteur is measured first, then the reference; each is idle while the other runs.
How to read it: each row shows Facteur, the reference, and the ratio reference / Facteur for
times and memory (Facteur / reference for rates), so above 1 always means Facteur does better.
The timed IMAP client is a small raw-socket one (it reads to the tagged line, skipping literals),
yet reading costs it a few microseconds per response line, the same for both servers: at 10,000
lines that is a floor of tens of milliseconds under the wall times. So the IMAP rows are also
given as server CPU: the CPU time the server's processes used per run (all their threads, from
/proc/PID/task/TID/schedstat), which the client does not blur.

Usage: scripts/bench-core.py --facteur PATH [-n N]
Needs: the reference set up and started (as root: ../shared/reference/setup.sh, then start.sh),
and smtp-source (Debian's postfix package, which setup.sh installs). Only the Python standard
library is used; everything stays on 127.0.0.1.
"""

import argparse
import datetime
import email.policy
import email.utils
import os
import random
import re
import shlex
import shutil
import smtplib
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from email.message import EmailMessage
from pathlib import Path

# Facteur checks senders (SPF, DKIM, DMARC) by DNS; the reference does not, and these runs
# must not query the internet: off, like for like. A variable, which older binaries ignore.
NO_SENDER_CHECKS = {"FACTEUR_SENDER_CHECKS": "false"}

FACTEUR_USER = "ana@example.org"
FACTEUR_PASSWORD = "bench password 1"
REF_USER = "alice@example.org"
REPO = Path(__file__).resolve().parent.parent
REF_SCRIPTS = REPO.parent / "shared" / "reference"
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # both servers use self-signed certificates


def say(*words):
    print(*words, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The corpus: message i depends only on (seed, i), so -n 300 gives the first 300 of the 10,000.

FIRST = ["Élodie", "François", "Hélène", "Zoë", "Jérôme", "Anaïs", "Cécile", "Loïc", "Bénédicte",
         "Gaël", "Noémie", "Thérèse", "Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace",
         "Henry", "Irene", "Jack", "Karen", "Liam", "Marie", "Pierre", "Sophie", "Julien"]
LAST = ["Lefèvre", "Dubois", "Garçon", "Moreau", "Fauré", "Bérubé", "Lévêque", "Smith", "Jones",
        "Brown", "Martin", "Bernard", "Petit", "Durand", "Leroy", "Girard", "Bonnet", "Roux"]
DOMAINS = ["example.com", "exemple.fr", "univ-lyon.example", "mairie.example", "partner.example",
           "lists.example.net", "startup.example.io"]
WORDS_FR = ("le la les de des un une et est pour dans que qui avec sur pas plus par comme mais "
            "nous vous ils réunion équipe projet budget prévisionnel août déjà très été être où ça "
            "élève hôpital forêt garçon naïve cœur dossier rapport semaine prochaine merci bonjour "
            "cordialement délai validé à côté après demain réponse fenêtre").split()
WORDS_EN = ("the of and to in is that for it with as was on be at by this have from or one had not "
            "but what all were when we there can an your which their said if do will each about how "
            "up out them then many some so these would other into has more two like see time could "
            "no make than first been its who now people made over did only way find use may long "
            "meeting project report budget quarterly review schedule please attached thanks regards "
            "deadline draft version customer release").split()
SUBJECTS = ["Réunion d'équipe du {day} {month}", "Budget prévisionnel {year}", "Quarterly report Q{q}",
            "Photos du week-end à {city}", "Facture n°{num}", "Invitation: design review",
            "Ordre du jour — comité de pilotage", "Minutes of the {day} {month} call",
            "Déménagement des bureaux", "Release {q}.{num} notes", "Congés d'été : planning",
            "Your order {num} has shipped", "Café jeudi ?", "Contrat de maintenance — révision",
            "Weekly sync", "Problème d'accès au serveur", "Dîner de fin d'année"]
CITIES = ["Besançon", "Orléans", "Nîmes", "Genève", "Montréal", "Lyon", "Brest"]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]
ATTACHMENTS = [("application", "pdf", "Rapport {year}.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
               ("application", "pdf", "Présentation équipe.pdf", b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"),
               ("image", "jpeg", "IMG_{num}.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
               ("image", "png", "capture d'écran {num}.png", b"\x89PNG\r\n\x1a\n"),
               ("application", "pdf", "facture-{num}.pdf", b"%PDF-1.7\n")]


def message_id(seed, i):
    return f"<{i}.{random.Random(f'{seed}-id-{i}').getrandbits(48):012x}@{DOMAINS[i % len(DOMAINS)]}>"


def subject_of(seed, i):
    rng = random.Random(f"{seed}-subject-{i}")
    return rng.choice(SUBJECTS).format(day=rng.randint(1, 28), month=rng.choice(MONTHS),
                                       year=rng.randint(2019, 2025), q=rng.randint(1, 4),
                                       num=rng.randint(1000, 99999), city=rng.choice(CITIES))


def person(rng):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    plain = unicodedata.normalize("NFKD", f"{first}.{last}".lower()).encode("ascii", "ignore").decode()
    local = re.sub(r"[^a-z.]", "", plain) or "someone"
    return email.utils.formataddr((f"{first} {last}", f"{local}@{rng.choice(DOMAINS)}"))


def text(rng, size):
    """Paragraphs of French or English words, lines under 76 characters, about `size` bytes."""
    french = rng.random() < 0.5
    words = WORDS_FR if french else WORDS_EN
    out, line, total = [], [], 0
    for word in rng.choices(words, k=max(8, size // 6)):
        line.append(word)
        if sum(len(w) + 1 for w in line) > 68:
            out.append(" ".join(line))
            total += len(out[-1]) + 1
            line = []
            if rng.random() < 0.15:
                out.append("")
            if total >= size:
                break
    if line:
        out.append(" ".join(line))
    if french:
        return "Bonjour,\n\n" + "\n".join(out) + "\n\nCordialement,\n-- \nEnvoyé depuis mon ordinateur\n"
    return "Hello,\n\n" + "\n".join(out) + "\n\nBest regards\n"


def build_message(seed, i):
    rng = random.Random(f"{seed}-message-{i}")
    roll = rng.random()
    if roll < 0.04:
        size = rng.randint(100_000, 500_000)
    elif roll < 0.12:
        size = rng.randint(20_000, 100_000)
    else:
        size = rng.randint(2_000, 20_000)
    kind = rng.choices(["plain", "alternative", "mixed"], [40, 30, 30])[0]
    if size > 60_000:
        kind = "mixed"  # big mail is big because of its attachments
    sender = person(rng)
    when = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    when += datetime.timedelta(minutes=i * 53 + rng.randint(0, 50))
    msg = EmailMessage()
    for hop in range(rng.randint(1, 3)):
        msg["Received"] = (f"from mx{hop}.{rng.choice(DOMAINS)} (mx{hop}.{rng.choice(DOMAINS)} "
                           f"[192.0.2.{rng.randint(1, 254)}]) by relay.example.net with ESMTPS id "
                           f"{rng.getrandbits(40):010x}; {email.utils.format_datetime(when + datetime.timedelta(seconds=hop + 1))}")
    msg["From"] = sender
    msg["To"] = email.utils.formataddr(("Ana Lopez", "ana@example.org"))
    if rng.random() < 0.3:
        msg["Cc"] = ", ".join(person(rng) for _ in range(rng.randint(1, 3)))
    msg["Date"] = email.utils.format_datetime(when)
    subject = subject_of(seed, i)
    if i > 10 and rng.random() < 0.25:  # a reply to an earlier message
        parent = rng.randrange(max(0, i - 500), i)
        subject = "Re: " + subject_of(seed, parent)
        msg["In-Reply-To"] = message_id(seed, parent)
        refs = [message_id(seed, p) for p in sorted({rng.randrange(0, parent + 1) for _ in range(rng.randint(0, 4))})
                if p != parent]
        msg["References"] = " ".join(refs + [message_id(seed, parent)])
    msg["Subject"] = subject
    msg["Message-ID"] = message_id(seed, i)
    if rng.random() < 0.4:
        msg["X-Mailer"] = rng.choice(["Thunderbird 115.6.0", "Apple Mail (2.3774)", "Microsoft Outlook 16.0"])
    if rng.random() < 0.1:
        msg["List-Id"] = "Annonces <annonces.lists.example.net>"

    def set_text(body):
        if body.isascii():
            msg.set_content(body)
        else:  # most clients send quoted-printable, some 8bit (Thunderbird's default for UTF-8)
            msg.set_content(body, cte="8bit" if rng.random() < 0.3 else "quoted-printable")

    if kind == "plain":
        set_text(text(rng, size - 900))
    elif kind == "alternative":
        body = text(rng, (size - 1200) * 2 // 5)
        set_text(body)
        html = "".join(f"<p>{p}</p>\n" for p in body.split("\n\n"))
        msg.add_alternative(f"<html><head><meta charset=\"utf-8\"><style>p {{ font-family: Arial; }}</style>"
                            f"</head><body>\n{html}</body></html>\n", subtype="html")
    else:
        body_size = min(rng.randint(500, 4000), size // 3)
        set_text(text(rng, body_size))
        parts = rng.randint(1, 3)
        room = max(1000, (size - body_size - 1500) * 3 // 4)  # base64 grows by a third
        for _ in range(parts):
            maintype, subtype, name, magic = rng.choice(ATTACHMENTS)
            data = magic + rng.randbytes(max(100, room // parts))
            msg.add_attachment(data, maintype=maintype, subtype=subtype,
                               filename=name.format(year=rng.randint(2019, 2025), num=rng.randint(1000, 9999)))
    for part in msg.walk():
        if part.is_multipart():  # the email package would draw boundaries from the global random
            part.set_boundary(f"=_{rng.getrandbits(64):016x}")
    return msg["Message-ID"], sender, msg.as_bytes(policy=email.policy.SMTP)


def build_corpus(seed, n):
    return [build_message(seed, i) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# A lean IMAP client: send a command, read to its tagged line, reading each literal {N} as N bytes.

LITERAL = re.compile(rb"~?\{(\d+)\+?\}\r\n$")


class ImapError(Exception):
    pass


class Imap:
    def __init__(self, port, user, password, timeout=600):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.tag = 0
        greeting = self._line()
        if not greeting.startswith(b"* OK"):
            raise ImapError(f"greeting: {greeting!r}")
        self.command("STARTTLS")
        if self.pos != len(self.buf):
            raise ImapError("bytes after the STARTTLS answer")
        self.sock = TLS.wrap_socket(self.sock, server_hostname="localhost")
        self.command(f"LOGIN {quote(user)} {quote(password)}")

    def _fill(self):
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ImapError("connection closed")
        self.buf += chunk

    def _line(self):
        start = self.pos
        while True:
            end = self.buf.find(b"\n", start)
            if end >= 0:
                line = bytes(self.buf[self.pos:end + 1])
                self.pos = end + 1
                return line
            scanned = len(self.buf) - self.pos
            self._fill()
            start = self.pos + scanned

    def _take(self, n, keep):
        while len(self.buf) - self.pos < n:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n]) if keep else None
        self.pos += n
        return data

    def command(self, text, collect=False):
        """Sends one command; returns (bytes received, untagged responses if collect)."""
        self.tag += 1
        tag = b"t%d " % self.tag
        self.sock.sendall(tag + text.encode() + b"\r\n")
        received, records = 0, []
        while True:
            line = self._line()
            received += len(line)
            if line.startswith(tag):
                if not line[len(tag):].startswith(b"OK"):
                    raise ImapError(f"{text[:60]}: {line.decode(errors='replace').strip()}")
                return received, records
            parts = [line]
            while line.endswith(b"}\r\n"):
                literal = LITERAL.search(line)
                if literal is None:
                    break
                size = int(literal[1])
                parts.append(self._take(size, collect))
                received += size
                line = self._line()
                received += len(line)
                parts.append(line)
            if collect:
                records.append(b"".join(parts))

    def status_messages(self):
        _, records = self.command("STATUS INBOX (MESSAGES)", collect=True)
        for record in records:
            found = re.search(rb"\(MESSAGES (\d+)\)", record)
            if found:
                return int(found[1])
        raise ImapError(f"no MESSAGES in {records!r}")

    def cipher(self):
        version, name = self.sock.version(), self.sock.cipher()[0]
        return f"{version} {name}"

    def logout(self):
        try:
            self.command("LOGOUT")
        except (ImapError, OSError):
            pass
        self.sock.close()


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------
# The two servers.

class Server:
    def __init__(self, name, smtp_port, imap_port, user, password, pids, others=None):
        self.name, self.smtp_port, self.imap_port = name, smtp_port, imap_port
        self.user, self.password, self.pids, self.others = user, password, pids, others

    def imap(self):
        return Imap(self.imap_port, self.user, self.password)

    def processes(self):
        return processes_of(self.pids())


def processes_of(pids):
    """[(name, RSS in kB, PSS in kB or None when smaps_rollup is not ours to read)] for `pids`."""
    found = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            rss = int(re.search(r"VmRSS:\s+(\d+) kB", status)[1])
            name = re.search(r"Name:\s+(\S+)", status)[1]
        except (OSError, TypeError):
            continue  # gone meanwhile, or a zombie
        try:
            pss = int(re.search(r"Pss:\s+(\d+) kB", Path(f"/proc/{pid}/smaps_rollup").read_text())[1])
        except (OSError, TypeError):
            pss = None
        found.append((name, rss, pss))
    return found


# Dovecot's LMTP processes deliver (the fill's Postfix opened up to 20 of them) and stay until
# their idle_kill (a minute): not IMAP memory, and present or not depending on timing.
NOT_COUNTED = {"lmtp"}


def memory(processes):
    """(RSS MB of the counted processes, PSS MB or None, note)."""
    counted = [p for p in processes if p[0] not in NOT_COUNTED]
    rss = sum(p[1] for p in counted) / 1024
    pss = None if any(p[2] is None for p in counted) else sum(p[2] for p in counted) / 1024
    if len(processes) <= 1:
        return rss, pss, ""
    names = {}
    for name, kb, _ in processes:
        count, total = names.get(name, (0, 0))
        names[name] = (count + 1, total + kb / 1024)
    note = ", ".join(f"{name}{' (not counted)' if name in NOT_COUNTED else ''} {count}x {mb:.1f} MB"
                     for name, (count, mb) in sorted(names.items(), key=lambda kv: -kv[1][1]))
    return rss, pss, note


def children_of(root):
    """root and all its descendants, from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                pass
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return found


class Facteur:
    """Starts `facteur serve` like scripts/bench-mailbox.py does, with a fresh data folder and
    these mailboxes (the first is the one measured), with these extra `serve` flags."""

    def __init__(self, binary, users=(FACTEUR_USER,), serve_flags=()):
        self.binary, self.users, self.serve_flags = binary, users, list(serve_flags)
        self.data = tempfile.mkdtemp(prefix="facteur-bench-")
        self.log = open(os.path.join(self.data, "stderr.log"), "w+")
        self.process = None

    def start(self):
        def admin(*args, stdin=None):
            subprocess.run([self.binary, "admin", "--data", self.data, *args], input=stdin, check=True,
                           capture_output=True, text=True)

        admin("domain", "add", "example.org")
        for user in self.users:
            admin("user", "add", user, "--password-stdin", stdin=FACTEUR_PASSWORD + "\n")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data", self.data, "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0",
             "--imap", "127.0.0.1:0", "--imaps", "off", "--submission", "off", "--submissions", "off",
             *self.serve_flags],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env={**os.environ, "FACTEUR_LOG": "warn", **NO_SENDER_CHECKS})
        ports = {}
        for line in self.process.stdout:
            match = re.match(r"facteur: (\w+) listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                ports[match[1]] = int(match[2])
            if line.strip() == "facteur: ready":
                break
        else:
            raise SystemExit(f"facteur exited before it was ready:\n{self.tail()}")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # keep the pipe drained
        pid = self.process.pid
        return Server("Facteur", ports["smtp"], ports["imap"], self.users[0], FACTEUR_PASSWORD, lambda: [pid])

    def tail(self):
        self.log.flush()
        self.log.seek(0)
        return "".join(self.log.readlines()[-20:])

    def stop(self):
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


def reference(ref):
    """The reference pipeline's Server, after checking that it answers."""
    settings = {"REF_SMTP_PORT": "22525", "REF_IMAP_PORT": "22143", "REF_PASSWORD_ALICE": "Correct-Horse-42"}
    env_file = Path(ref) / "reference.env"
    try:
        for line in env_file.read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                settings[key] = shlex.split(value)[0] if value else ""
    except OSError as error:
        say(f"note: cannot read {env_file} ({error.strerror}); using the default ports and password")
    settings.update({key: os.environ[key] for key in settings if key in os.environ})
    smtp_port, imap_port = int(settings["REF_SMTP_PORT"]), int(settings["REF_IMAP_PORT"])
    for what, port in (("Postfix SMTP", smtp_port), ("Dovecot IMAP", imap_port)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except OSError:
            raise SystemExit(
                f"The reference pipeline does not answer ({what}, 127.0.0.1:{port}).\n"
                f"Start it as root with {REF_SCRIPTS}/start.sh (once on a new machine, {REF_SCRIPTS}/setup.sh "
                f"first); give --ref (or REF) if it lives elsewhere than {ref}.")

    def tree(pid_file):
        def pids():
            try:
                return children_of(int(pid_file.read_text().split()[0]))
            except (OSError, ValueError, IndexError):
                return []
        return pids

    dovecot = tree(Path(ref) / "dovecot" / "run" / "master.pid")
    if not dovecot():
        say(f"note: no Dovecot master PID in {ref}/dovecot/run/master.pid: its memory will not be measured")
    postfix = tree(Path(ref) / "postfix" / "spool" / "pid" / "master.pid")
    return Server("reference", smtp_port, imap_port, REF_USER, settings["REF_PASSWORD_ALICE"], dovecot, postfix)


def empty_inbox(server):
    imap = server.imap()
    _, records = imap.command("SELECT INBOX", collect=True)
    exists = next((int(m[1]) for r in records if (m := re.match(rb"\* (\d+) EXISTS", r))), 0)
    if exists:
        imap.command("UID STORE 1:* +FLAGS.SILENT (\\Deleted)")
        imap.command("EXPUNGE")
    imap.logout()
    return exists


def wait_for(server, imap, target, settle, poll=0.1):
    """Polls STATUS until `target` messages are there, or none came for `settle` seconds.
    Returns (count, time.perf_counter() when it was first seen)."""
    count, seen_at, last_change = -1, time.perf_counter(), time.monotonic()
    while True:
        now = imap.status_messages()
        moment = time.perf_counter()
        if now != count:
            count, seen_at, last_change = now, moment, time.monotonic()
        if count >= target or time.monotonic() - last_change > settle:
            return count, seen_at
        time.sleep(poll)


def fill(server, corpus, connections):
    """Sends the corpus over `connections` parallel SMTP sessions."""
    lock = threading.Lock()
    queue = iter(corpus)
    errors, deferred = [], [0]

    def worker():
        try:
            smtp = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=300)
            smtp.ehlo("bench.example.net")
            options = ["BODY=8BITMIME"] if smtp.has_extn("8bitmime") else []
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    break
                _, sender, data = item
                for attempt in range(10):
                    try:
                        smtp.sendmail(email.utils.parseaddr(sender)[1], [server.user], data, mail_options=options)
                        break
                    except (smtplib.SMTPDataError, smtplib.SMTPRecipientsRefused) as error:
                        code = getattr(error, "smtp_code", None) or min(c for c, _ in error.recipients.values())
                        if not 400 <= code < 500 or attempt == 9:
                            raise
                        with lock:
                            deferred[0] += 1
                        time.sleep(1)  # deferred: try again, as a sending server would
            smtp.quit()
        except Exception as error:  # reported below; the wait then times out
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{server.name}: filling by SMTP failed: {errors[0]!r}")
    return deferred[0]


# ---------------------------------------------------------------------------------------------
# The measurements.

FETCHES = [
    "FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)",
    "FETCH 1:* (ENVELOPE)",
    "FETCH 1:* (BODYSTRUCTURE)",
    "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])",
]


def smtp_source(binary, server, sessions, messages, size):
    """Runs Postfix's smtp-source against `server`'s MX: (when it started, by
    time.perf_counter(), its wall time in seconds, how many messages SMTP refused, why)."""
    command = [binary, "-A", "-s", str(sessions), "-m", str(messages), "-l", str(size),
               "-f", "bench@remote.example", "-t", server.user, f"127.0.0.1:{server.smtp_port}"]
    say(f"{server.name}: {' '.join(command[1:])}")
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        say(f"{server.name}: smtp-source exited with {done.returncode}: {done.stderr.strip()[-300:]}")
    rejected = [line for line in done.stderr.splitlines() if "rejected" in line]
    return start, elapsed, len(rejected), sorted({re.sub(r"^.*?: ", "", line) for line in rejected})


def timed(operation, runs, server=None):
    """(median seconds, every run's seconds, what the last run returned); with a server, also
    the median CPU seconds its processes used per run (else None)."""
    times, cpu, result = [], [], None
    for _ in range(runs):
        before = cpu_seconds(server.pids()) if server else 0
        start = time.perf_counter()
        result = operation()
        times.append(time.perf_counter() - start)
        if server:
            cpu.append(cpu_seconds(server.pids()) - before)
    return statistics.median(times), times, result, (statistics.median(cpu) if server else None)


def cpu_seconds(pids):
    """CPU time the threads of `pids` have used, in seconds, with nanosecond resolution
    (/proc/PID/task/TID/schedstat; utime and stime count in 10 ms ticks)."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total / 1e9


def measure(server, args, corpus, picks):
    results, details = {}, {}

    def row(name, value, note=""):
        results[name] = value
        if note:
            details[name] = note

    # Fill, then wait until IMAP shows everything.
    if server.name == "reference":
        gone = empty_inbox(server)
        if gone:
            say(f"reference: emptied alice's Inbox ({gone} messages)")
    watcher = server.imap()
    before = watcher.status_messages()
    if before:
        raise SystemExit(f"{server.name}: the Inbox has {before} messages before the fill")
    say(f"{server.name}: filling the Inbox with {len(corpus)} messages over {args.fill_connections} SMTP connections")
    start = time.perf_counter()
    deferred = fill(server, corpus, args.fill_connections)
    sent = time.perf_counter() - start
    count, seen = wait_for(server, watcher, len(corpus), settle=max(120, args.settle))
    watcher.logout()
    if count != len(corpus):
        raise SystemExit(f"{server.name}: only {count} of {len(corpus)} messages arrived in the Inbox")
    details["fill"] = f"sent in {sent:.1f} s, all in the Inbox after {seen - start:.1f} s" + (
        f" ({deferred} deferrals retried)" if deferred else "")
    time.sleep(1)

    # IMAP over one STARTTLS connection.
    imap = server.imap()
    details["tls"] = imap.cipher()
    imap.command("SELECT INBOX")
    _, records = imap.command("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", collect=True)
    uids = {}
    for record in records:
        uid, mid = re.search(rb"UID (\d+)", record), re.search(rb"<[^>\s]+>", record)
        if uid and mid:
            uids[mid[0].decode()] = int(uid[1])
    missing = [corpus[i][0] for i in picks if corpus[i][0] not in uids]
    if missing:
        raise SystemExit(f"{server.name}: no UID found for Message-ID {missing[0]}")
    chosen = [uids[corpus[i][0]] for i in picks]
    for command in FETCHES:
        median, runs, received, cpu = timed(lambda: imap.command(command)[0], args.runs, server)
        row(command, median, f"{received / 1e6:.2f} MB; runs " + ", ".join(f"{t * 1000:.0f}" for t in runs))
        row(f"cpu {command}", cpu)

    def fetch_bodies():
        return sum(imap.command(f"UID FETCH {uid} BODY.PEEK[]")[0] for uid in chosen)

    median, runs, received, cpu = timed(fetch_bodies, args.runs, server)
    row("bodies", median, f"{received / 1e6:.2f} MB; runs " + ", ".join(f"{t * 1000:.0f}" for t in runs))
    row("cpu bodies", cpu)
    store_times, store_cpu = [], []
    for _ in range(args.runs):
        before = cpu_seconds(server.pids())
        start = time.perf_counter()
        imap.command("UID STORE 1:* +FLAGS (\\Seen)")
        store_times.append(time.perf_counter() - start)
        store_cpu.append(cpu_seconds(server.pids()) - before)
        imap.command("UID STORE 1:* -FLAGS.SILENT (\\Seen)")
    row("store", statistics.median(store_times), "runs " + ", ".join(f"{t * 1000:.0f}" for t in store_times))
    row("cpu store", statistics.median(store_cpu))
    median, runs, _, cpu = timed(lambda: [imap.command("NOOP") for _ in range(args.noops)], args.runs, server)
    row("noop", median, "runs " + ", ".join(f"{t * 1000:.0f}" for t in runs))
    row("cpu noop", cpu)
    imap.logout()

    # Memory after logins from parallel clients.
    time.sleep(1)
    rss_before = memory(server.processes())[0]
    counter, failures, lock = [args.logins], [], threading.Lock()

    def login_worker():
        while True:
            with lock:
                if counter[0] == 0:
                    return
                counter[0] -= 1
            try:
                server.imap().logout()
            except (ImapError, OSError) as error:
                failures.append(error)

    peak, finished = [rss_before], threading.Event()

    def sampler():  # Dovecot's memory is mostly in its per-session processes, gone after LOGOUT
        while not finished.wait(0.1):
            peak[0] = max(peak[0], memory(server.processes())[0])

    threads = [threading.Thread(target=login_worker) for _ in range(args.login_threads)]
    watch = threading.Thread(target=sampler)
    start = time.perf_counter()
    watch.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished.set()
    watch.join()
    row("logins", time.perf_counter() - start,
        f"{len(failures)} failed: {failures[0]}" if failures else "")
    time.sleep(1)  # Dovecot's per-session processes exit after LOGOUT
    rss, pss, note = memory(server.processes())
    note = (f"{note}; " if note else "") + (f"PSS {pss:.1f} MB; " if pss is not None and note else "") \
        + f"RSS before the logins {rss_before:.1f} MB, highest seen during them {peak[0]:.1f} MB"
    if server.others:
        note += f"; Postfix's processes (not counted) {sum(p[1] for p in processes_of(server.others())) / 1024:.1f} MB"
    row("memory", rss, note)

    # SMTP ingest with smtp-source, end to end.
    for sessions in args.sessions:
        watcher = server.imap()
        before = watcher.status_messages()
        start, accepted, refused, reasons = smtp_source(args.smtp_source, server, sessions, args.smtp_messages,
                                                        args.smtp_size)
        count, seen = wait_for(server, watcher, before + args.smtp_messages - refused, settle=args.settle)
        watcher.logout()
        stored = count - before
        row(f"ingest {sessions} rate", args.smtp_messages / accepted)
        row(f"ingest {sessions} e2e", stored / max(seen - start, accepted))
        row(f"ingest {sessions} stored", (stored, args.smtp_messages),
            f"{refused} refused by SMTP: {reasons[:3]}" if refused else "")
    return results, details


# ---------------------------------------------------------------------------------------------

def version(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def report(args, corpus, facteur, ref, fdetails, rdetails):
    size = sum(len(data) for _, _, data in corpus)
    print(f"Facteur {version([args.facteur, '--version']).removeprefix('facteur ')} ({args.facteur}) against Postfix "
          f"{version(['postconf', '-dh', 'mail_version'])} -> Dovecot {version(['dovecot', '--version']).split()[0]} "
          f"({args.ref})")
    print(f"{len(corpus)} messages ({size / 1e6:.1f} MB) in each Inbox, seed {args.seed}. "
          f"IMAP over STARTTLS ({fdetails['tls']} / {rdetails['tls']}), median of {args.runs} runs.")
    print(f"Fill: Facteur {fdetails['fill']}; reference {rdetails['fill']}.")
    print("Ratio: reference / Facteur for times and memory, Facteur / reference for rates: "
          "above 1, Facteur does better.\n")
    names = [(command, command, "ms") for command in FETCHES] + [
        ("bodies", f"{len(args.picks)} x UID FETCH n BODY.PEEK[] (same messages)", "ms"),
        ("store", "UID STORE 1:* +FLAGS (\\Seen)", "ms"),
        ("noop", f"{args.noops} x NOOP", "ms"),
        *[(f"cpu {command}", f"server CPU: {command.removeprefix('FETCH 1:* ')}", "ms") for command in FETCHES],
        ("cpu bodies", f"server CPU: {len(args.picks)} x BODY.PEEK[]", "ms"),
        ("cpu store", "server CPU: UID STORE 1:* +FLAGS (\\Seen)", "ms"),
        ("cpu noop", f"server CPU: {args.noops} x NOOP", "ms"),
        ("logins", f"{args.logins} x STARTTLS+LOGIN+LOGOUT, {args.login_threads} threads", "ms"),
        ("memory", "RSS after the logins (Dovecot: sum, lmtp aside)", "MB"),
    ]
    for sessions in args.sessions:
        names += [(f"ingest {sessions} rate", f"smtp-source -s {sessions}: accepted", "msg/s"),
                  (f"ingest {sessions} e2e", f"smtp-source -s {sessions}: in the Inbox (end to end)", "msg/s"),
                  (f"ingest {sessions} stored", f"smtp-source -s {sessions}: stored/sent", "")]
    width = max(len(label) for _, label, _ in names)
    print(f"{'':{width}}  {'Facteur':>14}  {'reference':>14}  {'ratio':>6}")
    for key, label, unit in names:
        f, r = facteur[key], ref[key]
        if unit == "":
            print(f"{label:{width}}  {f'{f[0]}/{f[1]}':>14}  {f'{r[0]}/{r[1]}':>14}")
            continue
        if unit == "ms":
            cells, ratio = (f"{f * 1000:.1f} ms", f"{r * 1000:.1f} ms"), r / f
        elif unit == "MB":
            cells, ratio = (f"{f:.1f} MB", f"{r:.1f} MB"), r / f
        else:
            cells, ratio = (f"{f:.0f} msg/s", f"{r:.0f} msg/s"), (f / r if r else float("inf"))
        print(f"{label:{width}}  {cells[0]:>14}  {cells[1]:>14}  {ratio:6.2f}")
    notes = [(label, fdetails.get(key), rdetails.get(key)) for key, label, _ in names
             if (key in fdetails or key in rdetails) and (args.verbose or key in ("memory", "logins") or "stored" in key)]
    if notes:
        print()
        for label, fnote, rnote in notes:
            print(f"{label}:\n  Facteur: {fnote or '-'}\n  reference: {rnote or '-'}")
    for key, label, unit in names:
        for who, results in (("Facteur", facteur), ("reference", ref)):
            if unit == "" and results[key][0] != results[key][1]:
                print(f"WARNING: {who} stored {results[key][0]} of {results[key][1]} messages ({label})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     usage="%(prog)s --facteur PATH [-n N] [options]")
    parser.add_argument("--facteur", required=True, metavar="PATH", help="the facteur binary to measure")
    parser.add_argument("-n", type=int, default=10_000, help="messages in each Inbox (default 10000; try 300 while developing)")
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="seed of the messages and of the 200 picks (default 1)")
    parser.add_argument("--runs", type=int, default=3, metavar="N", help="runs per IMAP timing, the median is shown (default 3)")
    parser.add_argument("--ref", default=os.environ.get("REF", "/tmp/facteur-reference"), metavar="DIR",
                        help="the reference's folder (default $REF, else /tmp/facteur-reference)")
    parser.add_argument("--fill-connections", type=int, default=4, metavar="N",
                        help="parallel SMTP sessions filling the Inbox (default 4)")
    parser.add_argument("--smtp-messages", type=int, default=2000, metavar="N",
                        help="smtp-source -m: messages per smtp-source run (default 2000)")
    parser.add_argument("--smtp-size", type=int, default=4096, metavar="BYTES",
                        help="smtp-source -l: body bytes per message (default 4096)")
    parser.add_argument("--sessions", default="1,16,20", metavar="LIST",
                        help="smtp-source -s: one run per value (default 1,16,20)")
    parser.add_argument("--settle", type=float, default=60, metavar="SECONDS",
                        help="after smtp-source, stop waiting for the Inbox when no message came for this long (default 60)")
    parser.add_argument("--logins", type=int, default=400, metavar="N", help="logins before the memory reading (default 400)")
    parser.add_argument("--login-threads", type=int, default=8, metavar="N", help="parallel clients for the logins (default 8)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print each run's time and the bytes received")
    args = parser.parse_args()
    args.sessions = [int(s) for s in args.sessions.split(",")]
    args.noops = 200
    args.smtp_source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    if not os.access(args.smtp_source, os.X_OK):
        raise SystemExit("smtp-source not found: it comes with Debian's postfix package (the reference's setup.sh installs it)")
    if not os.access(args.facteur, os.X_OK):
        raise SystemExit(f"{args.facteur}: not an executable")

    ref = reference(args.ref)  # check it answers before the long part
    say(f"generating {args.n} messages (seed {args.seed})")
    corpus = build_corpus(args.seed, args.n)
    rng = random.Random(args.seed)
    args.picks = [rng.randrange(args.n) for _ in range(200)]

    facteur = Facteur(args.facteur)
    try:
        fresults, fdetails = measure(facteur.start(), args, corpus, args.picks)
    except BaseException:
        say(f"facteur's last log lines:\n{facteur.tail()}")
        raise
    finally:
        facteur.stop()
    rresults, rdetails = measure(ref, args, corpus, args.picks)
    report(args, corpus, fresults, rresults, fdetails, rdetails)


if __name__ == "__main__":
    main()
