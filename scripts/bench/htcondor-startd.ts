// Time from "start" to this VM's slot visible in the collector, over loopback, in the trixie
// chroot's real HTCondor 23.9.6 (test/support/htcondor-pool.ts), three ways in the same run:
//   agent   the compiled dist/agent inside the chroot, as test/payloads/htcondor/agent-in-chroot
//           runs it: `agent run --root DIR --metadata-url none --user-data FILE` with
//           payload.type = htcondor (gather, plan, every stage up to the payload, the
//           configuration, START, condor_master -f under its supervisor with the readiness probe)
//   bare    condor_master -f alone, the same configuration (planned from the same options)
//           already on disk
//   shell   a plain shell script doing what VMCondor's does: write the configuration with a
//           heredoc, install the token, append START = True, start condor_master
// Each clock starts just before the process is spawned (every row through the same `prun`) and
// stops when an external `condor_status` (polled every 100 ms) lists the slot. For the agent the
// readiness line in its own JSON log is reported too, to show where its time goes.
// Usage: bun scripts/bench/htcondor-startd.ts [runs, default 5]

import { spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunPayloadAction } from "../../src/plan/actions.ts";
import { htcondorBaseConfig } from "../../src/payloads/htcondor/config.ts";
import { planHtcondorConfig, planHtcondorRun } from "../../src/payloads/htcondor/plan.ts";
import { AGENT_PATHS } from "../../src/status/paths.ts";
import { makeContext } from "../../test/support/context.ts";
import { applyConfigPlan, HTCONDOR_CHROOT_SCRIPT, prepareHtcondorChroot, startPool, stopGroup, type Pool } from "../../test/support/htcondor-pool.ts";

const AGENT_BINARY = join(process.cwd(), "dist", "agent");
const runs = Number(process.argv[2] ?? 5);
if (!existsSync(AGENT_BINARY)) {
  console.error("bench-htcondor-startd: no dist/agent (bash scripts/build.sh x64)");
  process.exit(2);
}
const prepared = prepareHtcondorChroot();
if (prepared.skip !== null) {
  console.error(`bench-htcondor-startd: ${prepared.skip}`);
  process.exit(2);
}
const pool: Pool = await startPool(prepared.chroot);
const token = pool.token();
let n = 0;

// One set of options for every row. Idle shutdown off: no row may end before its slot is seen.
const OPTIONS = { collector: pool.collector, uid_domain: "vacuum.test", update_interval_seconds: 10, idle_shutdown_seconds: 0 };
const SPACE = "vac01.example.org";
const MACHINETYPE = "condor-test";
// Only because the pool's central manager shares this host (services.md pitfalls 3, 10), as in
// agent-in-chroot.test.ts.
const LOOPBACK = ["NETWORK_INTERFACE = 127.0.0.1", "ENABLE_IPV6 = False", "SEC_USE_FAMILY_SESSION = False"];

// The agent's binary, copied into the chroot once (118 MB: not part of any run's time).
const bin = pool.vm("bin");
mkdirSync(bin.host, { recursive: true });
copyFileSync(AGENT_BINARY, join(bin.host, "agent"));
chmodSync(join(bin.host, "agent"), 0o755);

function nodeCtx(name: string) {
  const vm = pool.vm(name);
  const uuid = `${pool.id}-${name}`;
  const ctx = makeContext({
    root: vm.inner,
    config: {
      lifecycle: { kill_grace_seconds: 10 },
      identity: { uuid, space: SPACE, machinetype: MACHINETYPE },
      payload: { type: "htcondor", htcondor: { ...OPTIONS, idtoken: token, extra_config: LOOPBACK } },
    },
  });
  return { vm, uuid, ctx };
}

async function visible(uuid: string, t0: number, alive: () => boolean = () => true): Promise<number> {
  for (;;) {
    const r = pool.tool(["condor_status", "-constraint", `VacuumVmId == "${uuid}"`, "-af", "Name"], undefined, 10_000);
    if (r.status === 0 && r.stdout.trim()) return (performance.now() - t0) / 1000;
    if (!alive()) throw new Error(`${uuid}: the process ended before its slot was visible`);
    if (performance.now() - t0 > 60_000) throw new Error(`${uuid}: not visible after 60 s`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Seconds from `spawnedAt` (ms, wall clock) to the first JSON log line matching `test`, or null. */
function logAt(jsonl: string, spawnedAt: number, test: (r: { msg?: string; event?: string; stage?: string }) => boolean): number | null {
  try {
    for (const line of readFileSync(jsonl, "utf8").split("\n")) {
      if (!line) continue;
      const r = JSON.parse(line) as { time: string; msg?: string; event?: string; stage?: string };
      if (test(r)) return (Date.parse(r.time) - spawnedAt) / 1000;
    }
  } catch {
    // no log, or a torn last line
  }
  return null;
}

let configDiff: string[] | null = null;
const agentLog: { payloadStage: number | null; ready: number | null }[] = [];

async function agent(): Promise<number> {
  const name = `agent${++n}`;
  const vm = pool.vm(name);
  const uuid = `${pool.id}-${name}`;
  // Under --root the executor takes owners from DIR/etc/passwd: the image's accounts (condor).
  mkdirSync(join(vm.host, "root", "etc"), { recursive: true });
  for (const f of ["passwd", "group"]) copyFileSync(join(pool.chroot.dir, "etc", f), join(vm.host, "root", "etc", f));
  const doc = [
    "version = 1",
    `user_data_uuid = ${uuid}`,
    `user_data_space = ${SPACE}`,
    `user_data_machinetype = ${MACHINETYPE}`,
    `user_data_option_condor_host = ${OPTIONS.collector}`,
    `user_data_option_uid_domain = ${OPTIONS.uid_domain}`,
    // The heredoc form, as Vac's templates write it (condor_token_create may wrap the token).
    "user_data_option_condor_idtoken <<END_OF_TOKEN",
    token,
    "END_OF_TOKEN",
    "lifecycle.power_off = false",
    "lifecycle.kill_grace_seconds = 10",
    "payload.type = htcondor",
    `payload.htcondor.idle_shutdown_seconds = ${OPTIONS.idle_shutdown_seconds}`,
    `payload.htcondor.update_interval_seconds = ${OPTIONS.update_interval_seconds}`,
    "payload.htcondor.ready_timeout_seconds = 60",
    ...LOOPBACK.map((l) => `payload.htcondor.extra_config[] = ${l}`),
  ];
  mkdirSync(vm.host, { recursive: true });
  writeFileSync(join(vm.host, "user_data"), `-----BEGIN VACUUM-AGENT CONFIG-----\n${doc.join("\n")}\n-----END VACUUM-AGENT CONFIG-----\n`);
  // Its stderr to a file: a run that ends early says why.
  const errFile = join(vm.host, "agent.stderr");
  const err = openSync(errFile, "w");
  const spawnedAt = Date.now();
  const t0 = performance.now();
  const p = spawn("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", `${bin.inner}/agent`, "run", "--root", `${vm.inner}/root`, "--metadata-url", "none", "--user-data", `${vm.inner}/user_data`], {
    detached: true,
    stdio: ["ignore", "ignore", err],
  });
  closeSync(err);
  try {
    const s = await visible(uuid, t0, () => p.exitCode === null && p.signalCode === null).catch((e: Error) => {
      throw new Error(`${e.message}; its stderr ends:\n${readFileSync(errFile, "utf8").split("\n").slice(-15).join("\n")}`);
    });
    const jsonl = join(vm.host, "root", AGENT_PATHS.log);
    // The probe polls every second: its line may come a little after the slot was seen.
    const until = Date.now() + 5_000;
    let ready: number | null = null;
    while ((ready = logAt(jsonl, spawnedAt, (r) => r.msg?.startsWith("payload ready") === true)) === null && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
    if (configDiff === null) {
      // The bare and shell rows plan their configuration in-process from the same options: check once.
      const written = readFileSync(join(vm.host, "root", "var/lib/vacuum-agent/condor/condor_config"), "utf8").split(`${vm.inner}/root`).join(vm.inner);
      const planned = htcondorBaseConfig(nodeCtx(name).ctx);
      const a = new Set(written.split("\n"));
      const b = new Set(planned.split("\n"));
      configDiff = [...[...a].filter((l) => !b.has(l)).map((l) => `agent only: ${l}`), ...[...b].filter((l) => !a.has(l)).map((l) => `bench only: ${l}`)];
    }
    agentLog.push({ payloadStage: logAt(jsonl, spawnedAt, (r) => r.event === "stage-start" && r.stage === "payload"), ready });
    return s;
  } finally {
    // SIGTERM to the agent (the namespace's init): its stop request, condor_master's graceful end.
    await stopGroup(p.pid, 20_000);
  }
}

async function bare(): Promise<number> {
  const { vm, uuid, ctx } = nodeCtx(`bare${++n}`);
  await applyConfigPlan(pool.chroot, vm.host, planHtcondorConfig(ctx));
  const [start, run] = planHtcondorRun(ctx) as [never, RunPayloadAction];
  await applyConfigPlan(pool.chroot, vm.host, [start]);
  const t0 = performance.now();
  const p = spawn("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", "env", `CONDOR_CONFIG=${run.env!.CONDOR_CONFIG}`, "condor_master", "-f"], { detached: true, stdio: "ignore" });
  try {
    return await visible(uuid, t0);
  } finally {
    await stopGroup(p.pid, 15_000);
  }
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
  try {
    return await visible(uuid, t0);
  } finally {
    await stopGroup(p.pid, 15_000);
  }
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const loadBefore = loadavg();
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

const f = (x: number | null) => (x === null ? "?" : x.toFixed(2));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const cond = spawnSync("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", "condor_version"], { encoding: "utf8" }).stdout.split("\n")[0]?.replace(/\$/g, "").trim();
console.log(`# HTCondor startd: start -> slot visible in the collector (loopback, ${runs} runs each, interleaved)\n`);
console.log(`${cond}; ${new Date().toISOString()}; load average ${loadBefore} before, ${loadavg()} after (2 shared cores); condor_status polled every 100 ms from outside (each poll ~0.05-0.1 s)\n`);
console.log("| path | median s | min s | max s | runs (s) |");
console.log("|---|---|---|---|---|");
const labels: Record<string, string> = {
  agent: "compiled `dist/agent run --root` in the chroot (all stages, config, START, condor_master under its supervisor)",
  bare: "bare `condor_master -f`, same configuration already on disk",
  shell: "plain shell script as VMCondor (heredoc config, token, START, condor_master)",
};
for (const k of ["agent", "bare", "shell"]) {
  const xs = results[k]!;
  console.log(`| ${labels[k]} | ${f(median(xs))} | ${f(Math.min(...xs))} | ${f(Math.max(...xs))} | ${xs.map(f).join(", ")} |`);
}
const d = median(results.agent!) - median(results.bare!);
console.log(`\nagent - bare (median): ${d >= 0 ? "+" : ""}${f(d)} s (target: within 0.5 s: ${Math.abs(d) <= 0.5 ? "met" : "NOT met"})`);
const known = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
const stage = known(agentLog.map((a) => a.payloadStage));
const ready = known(agentLog.map((a) => a.ready));
console.log(`\nFrom the agent's JSON log (seconds after its spawn): payload stage started (median) ${stage.length ? f(median(stage)) : "?"} (${agentLog.map((a) => f(a.payloadStage)).join(", ")}); "payload ready" (its own probe, every 1 s) ${ready.length ? f(median(ready)) : "?"} (${agentLog.map((a) => f(a.ready)).join(", ")})`);
const diff = configDiff as string[] | null;
console.log(`\nConfiguration written by the agent vs the one the bare and shell rows use (paths aside): ${diff === null ? "not compared" : diff.length === 0 ? "identical" : `differs in ${diff.length} line(s): ${diff.join("; ")}`}`);
