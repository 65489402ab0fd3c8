#!/usr/bin/env bash
# The boot timeline of a real VM (qemu TCG, real cloud-init, the real manager on the host), from
# qemu's start to the payload's first instruction and the power-off, with the bootstrap's prefetch
# (cloud-init's init stage starts the agent's download: user_data/README.md) and, as the peer in
# the same run, without it (the user_data's shell part fetches the agent when it starts, as before).
# Runs scripts/vm/e2e.sh command-ok RUNS times each way, interleaved; prints a Markdown table of
# medians and saves it to scripts/bench-results/boot-<date>.md.
#
#   scripts/vm/bench-boot.sh [RUNS, default 2]
#
# Each boot takes 45-150 s here, so run it on a quiet machine: two guests at once are each ~1.5x slower.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
RUNS=${1:-2}
OUT=${BENCH_OUT:-/tmp/vacuum-bench-boot}
BUN=$ROOT/node_modules/.bin/bun
rm -rf "$OUT"
mkdir -p "$OUT" scripts/bench-results
[ -f scripts/bench-results/.gitignore ] || echo '*' > scripts/bench-results/.gitignore
for i in $(seq "$RUNS"); do
  for mode in prefetch no-prefetch; do
    p=1
    [ "$mode" = prefetch ] || p=0
    echo "bench-boot: run $i, $mode" >&2
    E2E_OUT=$OUT/$mode-$i E2E_PREFETCH=$p bash scripts/vm/e2e.sh command-ok > "$OUT/$mode-$i.log" 2>&1 || echo "bench-boot: run $i $mode: e2e failed (see $OUT/$mode-$i.log)" >&2
    "$BUN" scripts/vm/timeline.ts "$OUT/$mode-$i/command-ok" --json > "$OUT/$mode-$i.json" || echo '{}' > "$OUT/$mode-$i.json"
  done
done
"$BUN" - "$OUT" "$RUNS" <<'EOF' | tee "scripts/bench-results/boot-$(date -u +%Y-%m-%d).md"
const [dir, runs] = [process.argv[2]!, Number(process.argv[3])];
type T = { events?: { t: number; event: string }[]; userDataToPayload?: number | null; agentToPayload?: number | null; userDataToAgent?: number | null; prefetchSeconds?: number | null; qemuToPayload?: number | null };
const load = (mode: string): T[] => Array.from({ length: runs }, (_, i) => { try { return JSON.parse(require("node:fs").readFileSync(`${dir}/${mode}-${i + 1}.json`, "utf8")) as T; } catch { return {}; } });
const median = (xs: (number | null | undefined)[]): string => {
  const v = xs.filter((x): x is number => typeof x === "number").sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)]!.toFixed(2) : "-";
};
const at = (t: T, re: RegExp) => t.events?.find((e) => re.test(e.event))?.t ?? null;
const rows: [string, (t: T) => number | null | undefined][] = [
  ["kernel: first line", (t) => at(t, /^kernel: first line/)],
  ["systemd started", (t) => at(t, /^systemd: started/)],
  ["cloud-init init-local starts", (t) => at(t, /^cloud-init: init-local starts/)],
  ["cloud-init init (network) starts", (t) => at(t, /^cloud-init: init starts/)],
  ["prefetch starts (bootcmd)", (t) => at(t, /^mark: prefetch-start/)],
  ["prefetch done (agent verified)", (t) => at(t, /^mark: prefetch-done/)],
  ["cloud-init modules:config starts", (t) => at(t, /^cloud-init: modules:config starts/)],
  ["cloud-init modules:final starts", (t) => at(t, /^cloud-init: modules:final starts/)],
  ["user_data shell part starts", (t) => at(t, /^user_data: cloud-init starts the shell part/)],
  ["agent exec", (t) => at(t, /^mark: agent-exec/)],
  ["agent: runtime up", (t) => at(t, /^agent start-up: runtime up/)],
  ["agent: inputs read (metadata, MJF)", (t) => at(t, /^agent start-up: Machine\/Job Features read/)],
  ["agent: first stage starts", (t) => at(t, /^agent: layout starts/)],
  ["payload's first instruction", (t) => t.qemuToPayload],
  ["guest powered off", (t) => at(t, /^kernel: power down/)],
];
const a = load("prefetch"), b = load("no-prefetch");
const out = [
  `# Boot timeline of a TCG guest, seconds since qemu started (${new Date().toISOString().slice(0, 10)}, ${runs} runs each way, medians)`,
  "",
  "| event | with prefetch | without (peer) |",
  "|---|---:|---:|",
  ...rows.map(([name, f]) => `| ${name} | ${median(a.map(f))} | ${median(b.map(f))} |`),
  `| **user_data shell start → payload** (issue 9 target 3 s) | **${median(a.map((t) => t.userDataToPayload))}** | **${median(b.map((t) => t.userDataToPayload))}** |`,
  `| user_data shell start → agent exec (download) | ${median(a.map((t) => t.userDataToAgent))} | ${median(b.map((t) => t.userDataToAgent))} |`,
  `| agent exec → payload (the agent's share) | ${median(a.map((t) => t.agentToPayload))} | ${median(b.map((t) => t.agentToPayload))} |`,
  `| prefetch: download + zstd -d + sha256 of 118 MB | ${median(a.map((t) => t.prefetchSeconds))} | - |`,
  "",
  "The agent is fetched from the manager's agents/agent.zst in both columns; the peer is the same user_data without the cloud-config's bootcmd (E2E_PREFETCH=0).",
];
console.log(out.join("\n"));
EOF
