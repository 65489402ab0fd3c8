#!/usr/bin/env bash
# Footprint of dist/agent while supervising a payload, with today's bash heartbeat loop as the peer
# in the same run. Usage: scripts/bench-supervise.sh [seconds, default 120]. Needs curl (apt).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v curl >/dev/null || apt-get install -y -q curl </dev/null
[ -x dist/agent ] || bash scripts/build.sh x64
mkdir -p scripts/bench-results
[ -f scripts/bench-results/.gitignore ] || echo '*' > scripts/bench-results/.gitignore
node_modules/.bin/bun scripts/bench/supervise.ts "${1:-120}" | tee "scripts/bench-results/supervise-$(date -u +%Y-%m-%d).md"
