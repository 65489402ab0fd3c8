#!/usr/bin/env bash
# Minting a 2048-bit RFC 3820 proxy in a bun-compiled binary (target: 100 ms or less median)
# against the same proxy made with openssl commands, measured in one run. Compiles
# scripts/bench/proxy.ts with the release flags into a temp dir, runs its harness, prints a Markdown
# report and saves it to scripts/bench-results/proxy-<date>.md (ignored by git).
# Usage: scripts/bench-proxy.sh [runs, default 21]. Needs openssl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-21}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-proxy-bin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
node_modules/.bin/bun build --compile --minify --bytecode --format=esm \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  scripts/bench/proxy.ts --outfile "$tmp/proxy" >/dev/null
mkdir -p scripts/bench-results
[ -f scripts/bench-results/.gitignore ] || echo '*' > scripts/bench-results/.gitignore
node_modules/.bin/bun scripts/bench/proxy.ts harness "$tmp/proxy" "$runs" | tee "scripts/bench-results/proxy-$(date -u +%Y-%m-%d).md"
