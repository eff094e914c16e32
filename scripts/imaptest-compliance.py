#!/usr/bin/env python3
"""IMAP compliance: runs Dovecot imaptest's scripted tests against Facteur, one at a time.

Starts a `facteur` binary on loopback with a fresh data folder and two mailboxes (imaptest's
user and user2), runs every test file of imaptest's `src/tests` folder on its own, and prints
one line per test: pass, FAIL (with imaptest's explanation under it with -v), or not-run (the
test needs a capability Facteur does not offer, so imaptest ran none of its commands; its own
"skipped" count misses these). Exits 1 if a test failed.

Usage: scripts/imaptest-compliance.py --facteur PATH --tests IMAPTEST_SOURCE/src/tests [-v]
Needs: imaptest on PATH or in $IMAPTEST (not packaged by Debian: build it from Dovecot's
public imaptest repository against dovecot-dev, outside this repository). Loopback only.
"""

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_core", REPO / "scripts" / "bench-core.py")
core = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(core)

USERS = ("ana@example.org", "bob@example.org")


def run_one(imaptest, server, test):
    out = subprocess.run(
        [imaptest, "host=127.0.0.1", f"port={server.imap_port}", f"user={USERS[0]}", f"user2={USERS[1]}",
         f"pass={server.password}", f"test={test}"],
        capture_output=True, text=True, timeout=300)
    text = out.stdout + out.stderr
    counts = [re.search(rf"^{kind}: (\d+)/(\d+)", text, re.M) for kind in ("base protocol", "extensions")]
    if None in counts:
        return "ERROR", text
    failed = sum(int(m[1]) for m in counts)
    total = sum(int(m[2]) for m in counts)
    if total == 0:
        return "not-run", text
    return ("pass" if failed == 0 else "FAIL"), text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facteur", required=True, metavar="PATH", help="the facteur binary to test")
    parser.add_argument("--tests", required=True, metavar="DIR", help="imaptest's src/tests folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="print imaptest's output for failures")
    args = parser.parse_args()
    imaptest = os.environ.get("IMAPTEST") or shutil.which("imaptest")
    if not imaptest:
        raise SystemExit("imaptest not found: build it outside this repository and put it on PATH or in $IMAPTEST")
    tests = sorted(p for p in Path(args.tests).iterdir() if p.is_file() and p.suffix != ".mbox")
    facteur = core.Facteur(args.facteur, USERS, ["--plaintext-login-on-loopback", "true"])
    results = {}
    try:
        server = facteur.start()
        for test in tests:
            status, text = run_one(imaptest, server, test)
            results.setdefault(status, []).append(test.name)
            print(f"{test.name:34} {status}", flush=True)
            if status in ("FAIL", "ERROR") and args.verbose:
                print("    " + "\n    ".join(text.strip().splitlines()[:30]))
    finally:
        facteur.stop()
    print(", ".join(f"{len(names)} {status}" for status, names in sorted(results.items())))
    return 1 if results.get("FAIL") else 0


if __name__ == "__main__":
    sys.exit(main())
