#!/usr/bin/env bash
# Start of an HTCondor execute node to its slot visible in the collector (loopback, real HTCondor
# 23.9.6 in the trixie chroot): the compiled dist/agent run inside the chroot against a bare
# condor_master and a VMCondor-style shell script, interleaved in the same run
# (scripts/bench/htcondor-startd.ts). dist/agent is rebuilt first when src/ is newer.
# Usage: scripts/bench-htcondor-startd.sh [runs, default 5]. Needs root (the chroot's pivot_root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sh scripts/chroot-htcondor.sh build >/dev/null
if [ ! -x dist/agent ] || [ -n "$(find src -newer dist/agent -type f -print -quit)" ]; then
  bash scripts/build.sh x64 >&2
fi
mkdir -p scripts/bench-results
[ -f scripts/bench-results/.gitignore ] || echo '*' > scripts/bench-results/.gitignore
node_modules/.bin/bun scripts/bench/htcondor-startd.ts "${1:-5}" | tee "scripts/bench-results/htcondor-startd-$(date -u +%Y-%m-%d).md"
