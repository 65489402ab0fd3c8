#!/usr/bin/env bash
# Host preparation time of dist/agent against a shell-script peer (scripts/bench/host-prep.ts).
# Usage: scripts/bench-host-prep.sh [runs, default 7]. Needs openssl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x dist/agent ] || bash scripts/build.sh x64
mkdir -p scripts/bench-results
[ -f scripts/bench-results/.gitignore ] || echo '*' > scripts/bench-results/.gitignore
node_modules/.bin/bun scripts/bench/host-prep.ts "${1:-7}" | tee "scripts/bench-results/host-prep-$(date -u +%Y-%m-%d).md"
