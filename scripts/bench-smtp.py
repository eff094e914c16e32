#!/usr/bin/env python3
"""Benchmark: durable SMTP ingest, Facteur's MX against Postfix -> Dovecot LMTP (issue 14).

Postfix's smtp-source sends M messages of L bytes over S parallel sessions to a `facteur`
binary (started here once, on loopback, with a fresh data folder) and to the reference pipeline
in ../shared/reference (Postfix as the MX, delivering to Dovecot over LMTP; started beforehand),
one run configuration after the other, Facteur first, in one run of this script. Per run:

- accepted: M / smtp-source's wall time (each 250 to DATA means the message is on disk);
- end to end: messages stored / the time from smtp-source's start until IMAP STATUS INBOX
  (polled every 0.1 s over one STARTTLS session) shows them all;
- CPU per 1000 messages: the machine's busy CPU time (/proc/stat: user, nice, system, irq,
  softirq, steal) from the start to that end-to-end point, less what smtp-source and this
  script (its STATUS polling) used. Measured machine-wide because Postfix's and Dovecot's
  smtpd, cleanup and lmtp processes come and go, taking their CPU time with them; so the
  machine should otherwise be idle (the busy share before the runs is printed to check).
  Facteur's own process CPU (/proc/PID/task/*/schedstat) is shown as a cross-check;
- stored/sent: what STATUS showed against what smtp-source sent, less what SMTP refused.

Both Inboxes are emptied (STORE \\Deleted, EXPUNGE) before each run, so every run starts from
an empty Inbox on both sides and the reference's Maildir does not grow by 200 MB per 102400-byte
run; the reference's is emptied again at the end.
How to read it: each row shows Facteur, the reference, and the ratio Facteur / reference for
rates and reference / Facteur for CPU, so above 1 always means Facteur does better. The goal is
at least 1.5 end to end, by group commit, never by skipping fsyncs.
Exits with 1 if a message was lost (stored != sent - refused) on either side.

Usage: scripts/bench-smtp.py --facteur PATH [-m 2000] [--runs 20:4096,1:4096,20:102400]
                             [--facteur-flag FLAG]... [--only facteur|reference]
Needs: the reference set up and started (as root: ../shared/reference/setup.sh, then start.sh),
and smtp-source (Debian's postfix package, which setup.sh installs). Only the Python standard
library is used; everything stays on 127.0.0.1.
"""

import argparse
import importlib.util
import os
import resource
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.dont_write_bytecode = True  # no __pycache__ in scripts/
_spec = importlib.util.spec_from_file_location("bench_core", REPO / "scripts" / "bench-core.py")
core = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(core)
say = core.say


def busy_cpu():
    """The machine's busy CPU seconds since boot, all CPUs (guest time is inside user)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu():
    """CPU seconds of this script and of its waited-for children (smtp-source)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def ingest(server, args, sessions, size):
    """One smtp-source run into an emptied Inbox: a dict of the figures."""
    gone = core.empty_inbox(server)
    if gone:
        say(f"{server.name}: emptied {server.user}'s Inbox ({gone} messages)")
    time.sleep(1)  # let the expunge's work end before measuring
    watcher = server.imap()
    before = watcher.status_messages()
    own, busy, process = own_cpu(), busy_cpu(), core.cpu_seconds(server.pids())
    start, accepted, refused, reasons = core.smtp_source(args.smtp_source, server, sessions, args.m, size)
    count, seen = core.wait_for(server, watcher, before + args.m - refused, settle=args.settle)
    cpu = busy_cpu() - busy - (own_cpu() - own)
    process = core.cpu_seconds(server.pids()) - process
    watcher.logout()
    stored = count - before
    if refused:
        say(f"{server.name}: {refused} refused by SMTP: {reasons[:3]}")
    return {"rate": args.m / accepted, "e2e": stored / max(seen - start, accepted),
            "cpu": cpu * 1000 / max(stored, 1), "process": process * 1000 / max(stored, 1),
            "stored": (stored, args.m - refused), "lost": stored != args.m - refused}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     usage="%(prog)s --facteur PATH [-m N] [--runs LIST] [options]")
    parser.add_argument("--facteur", required=True, metavar="PATH", help="the facteur binary to measure")
    parser.add_argument("--ref", default=os.environ.get("REF", "/tmp/facteur-reference"), metavar="DIR",
                        help="the reference's folder (default $REF, else /tmp/facteur-reference)")
    parser.add_argument("-m", type=int, default=2000, metavar="N", help="smtp-source -m: messages per run (default 2000)")
    parser.add_argument("--runs", default="20:4096,1:4096,20:102400", metavar="LIST",
                        help="run configurations SESSIONS:BYTES, smtp-source's -s and -l (default 20:4096,1:4096,20:102400)")
    parser.add_argument("--settle", type=float, default=60, metavar="SECONDS",
                        help="after smtp-source, stop waiting for the Inbox when no message came for this long (default 60)")
    parser.add_argument("--facteur-flag", action="append", default=[], metavar="FLAG",
                        help="an extra `facteur serve` flag (repeat it; --facteur-flag=--x=y for a flag with a value)")
    parser.add_argument("--only", choices=["facteur", "reference"], help="measure one side only")
    args = parser.parse_args()
    try:
        runs = [tuple(int(n) for n in run.split(":")) for run in args.runs.split(",")]
        if any(len(run) != 2 for run in runs):
            raise ValueError
    except ValueError:
        parser.error(f"--runs: expected SESSIONS:BYTES,... not {args.runs!r}")
    args.smtp_source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    if not os.access(args.smtp_source, os.X_OK):
        raise SystemExit("smtp-source not found: it comes with Debian's postfix package (the reference's setup.sh installs it)")
    if not os.access(args.facteur, os.X_OK):
        raise SystemExit(f"{args.facteur}: not an executable")
    sides = ["facteur", "reference"] if args.only is None else [args.only]

    ref = core.reference(args.ref) if "reference" in sides else None
    busy, start = busy_cpu(), time.perf_counter()
    time.sleep(2)
    background = (busy_cpu() - busy) / (time.perf_counter() - start)
    facteur = core.Facteur(args.facteur, serve_flags=args.facteur_flag) if "facteur" in sides else None
    results = {}
    try:
        servers = {"facteur": facteur.start() if facteur else None, "reference": ref}
        for sessions, size in runs:
            for side in sides:
                results[side, sessions, size] = ingest(servers[side], args, sessions, size)
                time.sleep(1)
        if ref:
            core.empty_inbox(ref)
    except BaseException:
        if facteur and facteur.process:
            say(f"facteur's last log lines:\n{facteur.tail()}")
        raise
    finally:
        if facteur:
            facteur.stop()

    print(f"Facteur {core.version([args.facteur, '--version']).removeprefix('facteur ')} ({args.facteur}"
          f"{' ' + ' '.join(args.facteur_flag) if args.facteur_flag else ''}) against Postfix "
          f"{core.version(['postconf', '-dh', 'mail_version'])} -> Dovecot "
          f"{core.version(['dovecot', '--version']).split()[0]} over LMTP ({args.ref})")
    print(f"smtp-source -m {args.m} per run; {os.cpu_count()} CPUs, {background * 100:.0f}% of one busy "
          f"in the 2 s before the runs (should be near 0)."
          + (" WARNING: the machine was busy; the machine CPU rows count that too." if background > 0.1 else ""))
    print("Ratio: Facteur / reference for rates, reference / Facteur for CPU: above 1, Facteur does better.\n")
    rows = []
    for sessions, size in runs:
        run = f"-s {sessions} -l {size}"
        rows += [((sessions, size), "rate", f"{run}: accepted", "msg/s"),
                 ((sessions, size), "e2e", f"{run}: in the Inbox (end to end)", "msg/s"),
                 ((sessions, size), "cpu", f"{run}: machine CPU per 1000", "s"),
                 ((sessions, size), "process", f"{run}: Facteur's process CPU per 1000", "s"),
                 ((sessions, size), "stored", f"{run}: stored/sent", "")]
    width = max(len(label) for _, _, label, _ in rows)
    print(f"{'':{width}}  {'Facteur':>12}  {'reference':>12}  {'ratio':>6}")
    for run, key, label, unit in rows:
        f, r = (results.get((side, *run), {}).get(key) for side in ("facteur", "reference"))
        if key == "process":
            r = None  # Postfix's and Dovecot's processes exit with their CPU time
        if unit == "":
            cells, ratio = [f"{v[0]}/{v[1]}" if v else "-" for v in (f, r)], None
        else:
            cells = ["-" if v is None else f"{v:.0f} {unit}" if unit == "msg/s" else f"{v:.2f} {unit}"
                     for v in (f, r)]
            ratio = None if f is None or r is None else (f / r if unit == "msg/s" else r / f) if min(f, r) > 0 else None
        print(f"{label:{width}}  {cells[0]:>12}  {cells[1]:>12}  {'' if ratio is None else f'{ratio:6.2f}':>6}")
    lost = [(side, run) for (side, *run), figures in results.items() if figures["lost"]]
    for side, (sessions, size) in lost:
        stored, sent = results[side, sessions, size]["stored"]
        print(f"LOST: {side} stored {stored} of {sent} accepted messages (-s {sessions} -l {size})")
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
