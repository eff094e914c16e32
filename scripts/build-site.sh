#!/usr/bin/env bash
# Builds the web client's browser side (WASM + JS glue) and gathers the site the server serves:
#   server/site/pkg/facteur.js, server/site/pkg/facteur_bg.wasm, server/site/facteur.css, public/*,
#   each text-like file with precompressed .br and .gz twins
# Usage: scripts/build-site.sh [debug|release]   (default: debug)
# The `server` crate embeds server/site in release builds (rust-embed) and reads it from disk in
# debug builds, so run this before building the server.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-debug}"
# Leptos must not see LEPTOS_OUTPUT_NAME: with it unset, the page asks for /pkg/facteur_bg.wasm,
# which is the name wasm-bindgen gives below.
unset LEPTOS_OUTPUT_NAME
target_dir="${CARGO_TARGET_DIR:-target}"
if [ "$profile" = release ]; then
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
  wasm="$target_dir/wasm32-unknown-unknown/wasm-release/frontend.wasm"
else
  cargo build -p frontend --lib --target wasm32-unknown-unknown
  wasm="$target_dir/wasm32-unknown-unknown/debug/frontend.wasm"
fi
rm -rf server/site.tmp && mkdir -p server/site.tmp/pkg
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir server/site.tmp/pkg --out-name facteur "$wasm"
cp style/*.css server/site.tmp/
cp -r public/. server/site.tmp/
node scripts/compress-site.mjs server/site.tmp
rm -rf server/site && mv server/site.tmp server/site
echo "site built in server/site ($profile)"
