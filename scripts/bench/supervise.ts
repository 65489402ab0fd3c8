// Footprint of the agent while it supervises a payload (issue 4): RSS and CPU of dist/agent between
// heartbeats, against a peer measured in the same run: the bash heartbeat loop of today's DIRAC and
// VMCondor VMs (sleep, then curl -T of the heartbeat file), both PUTting to the same local receiver.
// Run: node_modules/.bin/bun scripts/bench/supervise.ts [seconds]   (scripts/bench-supervise.sh)

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

const seconds = Number(process.argv[2] ?? 120);
// heartbeat_seconds of the pipe; the agent beats every min(300, heartbeat_seconds / 2).
const heartbeatSeconds = Number(process.env.HEARTBEAT_SECONDS ?? 60);
const period = Math.min(300, heartbeatSeconds / 2);
const HZ = 100; // USER_HZ on Linux

const puts = new Map<string, number>();
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    puts.set(req.url ?? "", (puts.get(req.url ?? "") ?? 0) + 1);
    res.writeHead(201).end();
  });
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;
const base = `http://127.0.0.1:${port}`;

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime, stime, cutime, cstime (fields 14-17; index 11-14 after the comm field)
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}
function rssKb(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const get = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: get("VmRSS"), hwm: get("VmHWM") };
}

const root = mkdtempSync(join(tmpdir(), "bench-supervise-"));
const ud = join(root, "ud");
writeFileSync(
  ud,
  [
    "-----BEGIN VACUUM-AGENT CONFIG-----",
    "version = 1",
    `user_data_joboutputs_url = ${base}/agent`,
    `lifecycle.heartbeat_seconds = ${heartbeatSeconds}`,
    "payload.type = command",
    "payload.command.path = /bin/sleep",
    `payload.command.args[] = ${seconds + 30}`,
    "-----END VACUUM-AGENT CONFIG-----",
    "",
  ].join("\n"),
);
const agent: ChildProcess = spawn("dist/agent", ["run", "--root", root, "--user-data", ud, "--metadata-url", "none"], { stdio: "ignore", detached: true });
// The peer: today's bootstrap heartbeat, at the agent's period.
const peer: ChildProcess = spawn(
  "bash",
  ["-c", `echo "0.0 0.0 0.0 0.0 0.0" > ${root}/hb; while true; do cat /proc/loadavg /proc/uptime | awk '{printf "%s ", $0}' > ${root}/hb; curl -s --max-time 30 -T ${root}/hb ${base}/peer/heartbeat; sleep ${period}; done`],
  { stdio: "ignore", detached: true },
);

await new Promise((r) => setTimeout(r, 10_000)); // past start-up: measure the steady state
const t0 = Date.now();
const a0 = cpuTicks(agent.pid!);
const p0 = cpuTicks(peer.pid!);
let agentRss = 0;
let peerRss = 0;
while (Date.now() - t0 < seconds * 1000) {
  await new Promise((r) => setTimeout(r, 1000));
  agentRss = Math.max(agentRss, rssKb(agent.pid!).rss);
  peerRss = Math.max(peerRss, rssKb(peer.pid!).rss);
}
const elapsed = (Date.now() - t0) / 1000;
const a1 = cpuTicks(agent.pid!);
const p1 = cpuTicks(peer.pid!);
const agentHwm = rssKb(agent.pid!).hwm;
const perHour = (ticks: number) => ((ticks / HZ) * 3600) / elapsed;
for (const c of [agent, peer]) {
  try {
    process.kill(-c.pid!, "SIGKILL");
  } catch {
    // gone
  }
}
server.close();

const agentBeats = [...puts].filter(([u]) => u.startsWith("/agent/heartbeat")).reduce((n, [, c]) => n + c, 0);
const peerBeats = puts.get("/peer/heartbeat") ?? 0;
console.log(`# Supervision footprint, ${new Date().toISOString().slice(0, 16)}Z, ${elapsed.toFixed(0)} s measured after 10 s of start-up\n`);
console.log("| process | CPU per hour (projected) | max RSS | peak RSS (VmHWM) | heartbeats PUT |");
console.log("|---|---:|---:|---:|---:|");
console.log(`| dist/agent supervising \`sleep\` (heartbeat every ${period} s) | ${perHour(a1 - a0).toFixed(2)} s | ${(agentRss / 1024).toFixed(1)} MiB | ${(agentHwm / 1024).toFixed(1)} MiB | ${agentBeats} |`);
console.log(`| peer: bash loop + curl -T every ${period} s (today's VM bootstrap) | ${perHour(p1 - p0).toFixed(2)} s | ${(peerRss / 1024).toFixed(1)} MiB | - | ${peerBeats} |`);
console.log("\nCPU includes reaped children (cutime/cstime): curl for the peer.");
process.exit(0);
