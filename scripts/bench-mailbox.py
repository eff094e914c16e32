#!/usr/bin/env python3
"""Load tool: how Facteur copes with a big mailbox.

Starts a `facteur` binary on loopback with a fresh data folder, fills one Inbox with N
messages over a single SMTP connection, then times, per operation (mean of many runs):
one more SMTP delivery, IMAP SELECT, NOOP, UID FETCH of one message, STATUS, and the web
client's /mail page. Give two binaries to compare them side by side (e.g. before and after
a change); the ratios are printed.

Usage: scripts/bench-mailbox.py [-n N] BINARY [BASELINE_BINARY]
Build with `scripts/build-site.sh release && cargo build --release -p server` first.
Only the Python standard library is used; everything stays on 127.0.0.1.
"""

import argparse
import http.client
import imaplib
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time
import urllib.parse

# Facteur checks senders (SPF, DKIM, DMARC) by DNS; the reference does not, and these runs
# must not query the internet: off, like for like. A variable, which older binaries ignore.
NO_SENDER_CHECKS = {"FACTEUR_SENDER_CHECKS": "false"}

PASSWORD = "bench password 1"
USER = "ana@example.org"
BODY = "From: bob@remote.test\r\nTo: ana@example.org\r\nSubject: message {i}\r\n\r\n" + "hello world " * 300 + "\r\n"


def mean_ms(operation, runs):
    start = time.perf_counter()
    for _ in range(runs):
        operation()
    return (time.perf_counter() - start) / runs * 1000


def run(binary, n):
    data = tempfile.mkdtemp(prefix="facteur-bench-")
    server = None
    try:
        def admin(*args, stdin=None):
            subprocess.run([binary, "admin", "--data", data, *args], input=stdin, check=True,
                           capture_output=True, text=True)

        admin("domain", "add", "example.org")
        admin("user", "add", USER, "--password-stdin", stdin=PASSWORD + "\n")
        server = subprocess.Popen(
            [binary, "serve", "--data", data, "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0",
             "--imap", "127.0.0.1:0", "--imaps", "off",
             "--submission", "off", "--submissions", "off"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "FACTEUR_LOG": "warn", **NO_SENDER_CHECKS})
        ports = {}
        for line in server.stdout:
            match = re.match(r"facteur: (\w+) listening on 127\.0\.0\.1:(\d+)", line)
            if match:
                ports[match[1]] = int(match[2])
            if line.strip() == "facteur: ready":
                break

        results = {}
        start = time.time()
        smtp = smtplib.SMTP("127.0.0.1", ports["smtp"])
        for i in range(n):
            smtp.sendmail("bob@remote.test", [USER], BODY.format(i=i))
        results["fill, per message"] = (time.time() - start) / n * 1000
        results["SMTP delivery"] = mean_ms(lambda: smtp.sendmail("bob@remote.test", [USER], BODY.format(i=0)), 50)
        smtp.quit()

        imap = imaplib.IMAP4("127.0.0.1", ports["imap"])
        imap.starttls(ssl_context=ssl._create_unverified_context())  # the self-signed certificate
        imap.login(USER, PASSWORD)
        results["IMAP SELECT"] = mean_ms(lambda: imap.select("INBOX"), 10)
        results["IMAP NOOP"] = mean_ms(imap.noop, 200)
        one = str(n // 2)
        results["IMAP UID FETCH one"] = mean_ms(
            lambda: imap.uid("FETCH", one, "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), 200)
        results["IMAP STATUS"] = mean_ms(lambda: imap.status("INBOX", "(MESSAGES UNSEEN)"), 200)
        imap.logout()

        web = http.client.HTTPConnection("127.0.0.1", ports["http"])
        origin = f"http://127.0.0.1:{ports['http']}"
        web.request("POST", "/api/login", urllib.parse.urlencode({"email": USER, "password": PASSWORD}),
                    {"content-type": "application/x-www-form-urlencoded", "origin": origin})
        response = web.getresponse()
        response.read()
        cookie = response.getheader("set-cookie").split(";")[0]

        def page():
            web.request("GET", "/mail", headers={"cookie": cookie})
            answer = web.getresponse()
            answer.read()
            assert answer.status == 200, answer.status

        results["web /mail"] = mean_ms(page, 20)
        return results
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(data, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="messages in the Inbox (default 10000)")
    parser.add_argument("binary")
    parser.add_argument("baseline", nargs="?")
    args = parser.parse_args()
    results = run(args.binary, args.n)
    baseline = run(args.baseline, args.n) if args.baseline else None
    print(f"{args.n} messages in the Inbox; mean milliseconds per operation")
    for name, value in results.items():
        line = f"  {name:<22} {value:9.2f}"
        if baseline:
            line += f"   baseline {baseline[name]:9.2f}   {baseline[name] / value:7.1f}x faster"
        print(line)


if __name__ == "__main__":
    main()
