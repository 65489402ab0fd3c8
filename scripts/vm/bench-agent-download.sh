#!/usr/bin/env bash
# How to ship the agent (>100 MB) into the VM fastest: one guest (scripts/vm/boot.sh) fetches
# dist/agent from the host through qemu's user network in each form, RUNS times, and reports the
# wall time until a verified binary is on disk. The peer, in the same run, is the plain way:
# `curl -o agent URL && sha256sum agent`. Prints a Markdown table and saves it to
# scripts/bench-results/agent-download-<date>.md.
#
#   scripts/vm/bench-agent-download.sh [RUNS, default 3]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
RUNS=${1:-3}
CACHE=${VACUUM_AGENT_CACHE:-/var/cache/vacuum-agent}
OUT=${BENCH_OUT:-/tmp/vacuum-bench-download}
BUN=$ROOT/node_modules/.bin/bun
[ -x dist/agent ] || bash scripts/build.sh x64
command -v zstd > /dev/null || { apt-get update -q && apt-get install -y -q --no-install-recommends zstd < /dev/null; }
rm -rf "$OUT"
mkdir -p "$OUT/www" "$OUT/joboutputs" "$CACHE/agents" scripts/bench-results
[ -f scripts/bench-results/.gitignore ] || echo '*' > scripts/bench-results/.gitignore
# A copy: dist/ is shared, and a rebuild during the run must not change what the guest fetches.
cp dist/agent "$OUT/www/agent"
sha=$(sha256sum "$OUT/www/agent" | cut -d' ' -f1)
# Compressed forms, cached by the binary's sha256 (zstd -19 takes ~35 s on 2 cores).
for form in gz:'gzip -6' zst9:'zstd -q -9 -T0' zst:'zstd -q -19 -T0'; do
  ext=${form%%:*} cmd=${form#*:}
  [ -s "$CACHE/agents/$sha.$ext" ] || { $cmd -c "$OUT/www/agent" > "$CACHE/agents/$sha.$ext.tmp" && mv "$CACHE/agents/$sha.$ext.tmp" "$CACHE/agents/$sha.$ext"; }
  ln -f "$CACHE/agents/$sha.$ext" "$OUT/www/agent.$ext" 2> /dev/null || cp "$CACHE/agents/$sha.$ext" "$OUT/www/agent.$ext"
done

# The guest side: each method RUNS times, interleaved, results as "method seconds ok|bad" lines.
cat > "$OUT/user_data" <<EOF
#!/bin/sh
U=http://169.254.169.253
SHA=$sha
R=/run/bench.txt
t() { date +%s.%N; }
one() { # one METHOD: the time until a verified /run/a exists
  rm -f /run/a; sync; echo 3 > /proc/sys/vm/drop_caches
  s=\$(t)
  case \$1 in
    plain-then-sha256) curl -fsS -o /run/a \$U/agent && sum=\$(sha256sum /run/a) ;;
    plain-stream) sum=\$(curl -fsS \$U/agent | tee /run/a | sha256sum) ;;
    gzip-stream) sum=\$(curl -fsS \$U/agent.gz | gzip -dc | tee /run/a | sha256sum) ;;
    zstd9-stream) sum=\$(curl -fsS \$U/agent.zst9 | zstd -dcq | tee /run/a | sha256sum) ;;
    zstd19-stream) sum=\$(curl -fsS \$U/agent.zst | zstd -dcq | tee /run/a | sha256sum) ;;
    zstd19-then-sha256) curl -fsS \$U/agent.zst | zstd -dcq > /run/a && sum=\$(sha256sum /run/a) ;;
    network-only) curl -fsS -o /dev/null \$U/agent; sum=\$SHA ;;
  esac
  e=\$(t)
  ok=bad; [ "\${sum%% *}" = "\$SHA" ] && ok=ok
  echo "\$1 \$(echo "\$e - \$s" | awk '{ print \$1 - \$3 }') \$ok" >> \$R
}
for i in \$(seq $RUNS); do
  for m in network-only plain-then-sha256 plain-stream gzip-stream zstd9-stream zstd19-stream zstd19-then-sha256; do one \$m; done
done
nproc >> /run/bench-cpus.txt
curl -fsS -T \$R \$U/joboutputs/bench.txt
systemctl --no-block poweroff
EOF
"$BUN" scripts/vm/receiver.ts --www "$OUT/www" --store "$OUT/joboutputs" --log "$OUT/requests.jsonl" --port 0 > "$OUT/receiver.out" 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null || true' EXIT
for _ in $(seq 100); do port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$OUT/receiver.out" 2> /dev/null || true); [ -n "$port" ] && break; sleep 0.1; done
scripts/vm/boot.sh --out "$OUT" --user-data "$OUT/user_data" --timeout 600 --forward "169.254.169.253:80=$port" > /dev/null
size() { stat -c %s "$OUT/www/$1"; }
{
  echo "# Agent download into a TCG guest ($(date -u +%Y-%m-%d), $RUNS runs each, median; binary $(size agent) B)"
  echo
  echo "| method | bytes on the wire | median s | min s | max s | verified |"
  echo "|---|---:|---:|---:|---:|---|"
  for m in network-only plain-then-sha256 plain-stream gzip-stream zstd9-stream zstd19-stream zstd19-then-sha256; do
    case $m in network-only | plain-*) f=agent ;; gzip-*) f=agent.gz ;; zstd9-*) f=agent.zst9 ;; *) f=agent.zst ;; esac
    awk -v m="$m" -v b="$(size $f)" '$1 == m { v[++n] = $2; ok = ok && $3 == "ok" } BEGIN { ok = 1 }
      END { if (!n) { print "| " m " | " b " | - | - | - | no data |"; exit }
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
            printf "| %s | %d | %.2f | %.2f | %.2f | %s |\n", m, b, v[int((n + 1) / 2)], v[1], v[n], ok ? "yes" : "NO" }' "$OUT/joboutputs/bench.txt"
  done
  echo
  echo "network-only: curl to /dev/null, the network's ceiling (no sha256). *-stream: decompressed and hashed while it arrives (tee | sha256sum), as user_data/parts/bootstrap.sh does; *-then-sha256: a second pass over the file. The peer is plain-then-sha256."
} | tee "scripts/bench-results/agent-download-$(date -u +%Y-%m-%d).md"
