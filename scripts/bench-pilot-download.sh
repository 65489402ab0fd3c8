#!/usr/bin/env bash
# Downloading a 40-file DIRAC pilot directory (~1.5 MB) over HTTPS through a TCP proxy adding 20 ms
# of round trip (issue 6 "Speed": 5 times faster than wget or better), against the production VMs'
# `wget --recursive` and `curl --parallel --parallel-max 40` in the same run. Compiles
# scripts/bench-pilot-download.ts with the release flags into a temp dir, runs its harness, prints
# a Markdown report and saves it to scripts/bench-results/pilot-download-<date>.md (ignored by git).
# Usage: scripts/bench-pilot-download.sh [runs, default 9]. Needs wget and curl (installed with
# apt-get when missing, which is said).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-9}
for tool in wget curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench-pilot-download: $tool is missing; installing it with apt-get" >&2
    apt-get install -y -q "$tool" >/dev/null
  fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-pilot-bin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
node_modules/.bin/bun build --compile --minify --bytecode --format=esm \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  scripts/bench-pilot-download.ts --outfile "$tmp/pilot-download" >/dev/null
mkdir -p scripts/bench-results
[ -f scripts/bench-results/.gitignore ] || echo '*' > scripts/bench-results/.gitignore
node_modules/.bin/bun scripts/bench-pilot-download.ts harness "$tmp/pilot-download" "$runs" \
  | tee "scripts/bench-results/pilot-download-$(date -u +%Y-%m-%d).md"
