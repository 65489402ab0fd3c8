#!/usr/bin/env bash
# Downloading a 40-file DIRAC pilot directory (~1.5 MB) over HTTPS through a TCP proxy adding 20 ms
# of round trip (issue 6 "Speed": 5 times faster than wget or better), against the production VMs'
# `wget --recursive` and `curl --parallel --parallel-max 40` in the same run. The agent rows run the
# compiled agent, `dist/agent run --root <tmp>` with a dirac user_data (built first with
# scripts/build.sh x64 when src/ is newer), timing its fetch-pilot action from its JSON log and the
# whole run. Prints a Markdown report and saves it to scripts/bench-results/pilot-download-<date>.md
# (ignored by git).
# Usage: scripts/bench-pilot-download.sh [runs, default 9]. Needs wget, curl and python3 (the test
# pilot); wget and curl are installed with apt-get when missing, which is said.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-9}
for tool in wget curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench-pilot-download: $tool is missing; installing it with apt-get" >&2
    apt-get install -y -q "$tool" >/dev/null
  fi
done
command -v python3 >/dev/null || { echo "bench-pilot-download: python3 is needed to run the test dirac-pilot.py" >&2; exit 1; }
if [ ! -x dist/agent ] || [ -n "$(find src -newer dist/agent -name '*.ts' -print -quit)" ]; then
  echo "bench-pilot-download: dist/agent is missing or older than src/: bash scripts/build.sh x64" >&2
  bash scripts/build.sh x64 >&2
fi
mkdir -p scripts/bench-results
[ -f scripts/bench-results/.gitignore ] || echo '*' > scripts/bench-results/.gitignore
node_modules/.bin/bun scripts/bench-pilot-download.ts harness "$PWD/dist/agent" "$runs" \
  | tee "scripts/bench-results/pilot-download-$(date -u +%Y-%m-%d).md"
