// Time from "start" to this VM's slot visible in the collector, over loopback, in the trixie
// chroot's real HTCondor 23.9.6 (test/support/htcondor-pool.ts), three ways in the same run:
//   agent   the agent's code path: plan the configuration (pure), apply it, write the START file,
//           start condor_master -f through the agent's supervisor (runPayload) with its probe
//   bare    condor_master -f alone, its configuration (the same text) already on disk
//   shell   a plain shell script doing what VMCondor's does: write the configuration with a
//           heredoc, install the token, append START = True, start condor_master
// The clock stops when an external `condor_status` (polled every 100 ms) lists the slot.
// Usage: bun scripts/bench/htcondor-startd.ts [runs, default 5]

import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunPayloadAction } from "../../src/plan/actions.ts";
import { htcondorBaseConfig } from "../../src/payloads/htcondor/config.ts";
import { planHtcondorConfig, planHtcondorRun } from "../../src/payloads/htcondor/plan.ts";
import { makeContext } from "../../test/support/context.ts";
import { applyConfigPlan, HTCONDOR_CHROOT_SCRIPT, LOOPBACK_NODE_LINES, prepareHtcondorChroot, runNode, startPool, stopGroup, type Pool } from "../../test/support/htcondor-pool.ts";

const runs = Number(process.argv[2] ?? 5);
const prepared = prepareHtcondorChroot();
if (prepared.skip !== null) {
  console.error(`bench-htcondor-startd: ${prepared.skip}`);
  process.exit(2);
}
const pool: Pool = await startPool(prepared.chroot);
const token = pool.token();
let n = 0;

function nodeCtx(name: string) {
  const vm = pool.vm(name);
  const uuid = `${pool.id}-${name}`;
  const ctx = makeContext({
    root: vm.inner,
    config: {
      lifecycle: { kill_grace_seconds: 10 },
      identity: { uuid },
      payload: { type: "htcondor", htcondor: { collector: pool.collector, idtoken: token, uid_domain: "vacuum.test", update_interval_seconds: 10, idle_shutdown_seconds: 0, extra_config: LOOPBACK_NODE_LINES } },
    },
  });
  return { vm, uuid, ctx };
}

async function visible(uuid: string, t0: number): Promise<number> {
  for (;;) {
    const r = pool.tool(["condor_status", "-constraint", `VacuumVmId == "${uuid}"`, "-af", "Name"], undefined, 10_000);
    if (r.status === 0 && r.stdout.trim()) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > 60_000) throw new Error(`${uuid}: not visible after 60 s`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function agent(): Promise<number> {
  const { vm, uuid, ctx } = nodeCtx(`agent${++n}`);
  const ac = new AbortController();
  const t0 = performance.now();
  await applyConfigPlan(pool.chroot, vm.host, planHtcondorConfig(ctx));
  const [start, run] = planHtcondorRun(ctx) as [never, RunPayloadAction];
  await applyConfigPlan(pool.chroot, vm.host, [start]);
  const done = runNode(run, vm.host, { stop: ac.signal, stopAt: () => null, graceSeconds: () => 10 });
  const s = await visible(uuid, t0);
  ac.abort("bench done");
  await done;
  return s;
}

async function bare(): Promise<number> {
  const { vm, uuid, ctx } = nodeCtx(`bare${++n}`);
  await applyConfigPlan(pool.chroot, vm.host, planHtcondorConfig(ctx));
  const [start, run] = planHtcondorRun(ctx) as [never, RunPayloadAction];
  await applyConfigPlan(pool.chroot, vm.host, [start]);
  const t0 = performance.now();
  const p = spawn("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", "env", `CONDOR_CONFIG=${run.env!.CONDOR_CONFIG}`, "condor_master", "-f"], { detached: true, stdio: "ignore" });
  const s = await visible(uuid, t0);
  await stopGroup(p.pid, 15_000);
  return s;
}

async function shell(): Promise<number> {
  const { vm, uuid, ctx } = nodeCtx(`shell${++n}`);
  const d = `${vm.inner}/var/lib/vacuum-agent/condor`;
  const script = `#!/bin/sh
set -e
mkdir -p ${d}/log ${d}/config.d ${d}/tokens.d ${vm.inner}/scratch/condor/execute
chown condor:condor ${d}/log ${vm.inner}/scratch/condor/execute
chmod 700 ${d}/tokens.d
cat > ${d}/condor_config <<'VMCONDOR_EOF'
${htcondorBaseConfig(ctx)}VMCONDOR_EOF
umask 077
printf '%s\\n' "$TOKEN" > ${d}/tokens.d/vacuum-agent.token
umask 022
echo 'START = True' > ${d}/config.d/60-start.conf
CONDOR_CONFIG=${d}/condor_config exec condor_master -f
`;
  mkdirSync(vm.host, { recursive: true });
  writeFileSync(join(vm.host, "vmcondor.sh"), script);
  chmodSync(join(vm.host, "vmcondor.sh"), 0o755);
  const t0 = performance.now();
  const p = spawn("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", "sh", `${vm.inner}/vmcondor.sh`], { detached: true, stdio: "ignore", env: { ...process.env, TOKEN: token } });
  const s = await visible(uuid, t0);
  await stopGroup(p.pid, 15_000);
  return s;
}

const results: Record<string, number[]> = { agent: [], bare: [], shell: [] };
try {
  for (let i = 0; i < runs; i++) {
    results.agent!.push(await agent());
    results.bare!.push(await bare());
    results.shell!.push(await shell());
  }
} finally {
  await pool.stop();
}

const f = (x: number) => x.toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cond = spawnSync("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", "condor_version"], { encoding: "utf8" }).stdout.split("\n")[0]?.replace(/\$/g, "").trim();
console.log(`# HTCondor startd: start -> slot visible in the collector (loopback, ${runs} runs each, interleaved)\n`);
console.log(`${cond}; ${new Date().toISOString()}; condor_status polled every 100 ms (each poll ~0.05-0.1 s)\n`);
console.log("| path | median s | min s | max s | runs (s) |");
console.log("|---|---|---|---|---|");
const labels: Record<string, string> = {
  agent: "agent code path (plan + apply config, START file, supervisor runPayload with readiness probe)",
  bare: "bare `condor_master -f`, same configuration already on disk",
  shell: "plain shell script as VMCondor (heredoc config, token, START, condor_master)",
};
for (const k of ["agent", "bare", "shell"]) {
  const xs = results[k]!;
  console.log(`| ${labels[k]} | ${f(median(xs))} | ${f(Math.min(...xs))} | ${f(Math.max(...xs))} | ${xs.map(f).join(", ")} |`);
}
console.log(`\nagent - bare (median): ${f(median(results.agent!) - median(results.bare!))} s (target: within 0.5 s)`);
