// The boot timeline of one scripts/vm/boot.sh run, as a Markdown table: every event in seconds
// since qemu started, from the host's clock (boot.env, the receiver's requests.jsonl, manager.log as
// scripts/vm/e2e.sh stamps it: `EPOCH manager: METHOD "PATH" STATUS BYTES "UA"`), the kernel's
// (console.log), and the guest's wall clock (cloud-init.log, the bootstrap's and the payload's
// `vacuum-mark NAME EPOCH` lines, the agent's stage records).
//
//   bun scripts/vm/timeline.ts OUT-DIR [--json]
//
// Clocks: guest uptime u is qemu time u + k, with k = (qemu run time) - (uptime at "reboot: Power
// down"): the firmware and kernel loading before the kernel's first line. Guest wall-clock times
// are turned into uptime with cloud-init's own "running 'init-local' at ... Up N seconds" line.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface TimelineEvent {
  /** Seconds since qemu started. */
  t: number;
  event: string;
  source: string;
}

export interface Timeline {
  events: TimelineEvent[];
  /** Seconds from cloud-init starting the user_data to the payload's first instruction, when both are known. */
  userDataToPayload: number | null;
  /** From the user_data start to the agent's exec (download included). */
  userDataToAgent: number | null;
  /** From the bootstrap's prefetch start (cloud-init's init stage, bootcmd) to the payload, when it ran. */
  prefetchToPayload: number | null;
  /** The prefetch's own time (download, decompression and sha256), when it ran and finished. */
  prefetchSeconds: number | null;
  /** From the agent's exec to the payload's first instruction: the agent's share. */
  agentToPayload: number | null;
  /** Seconds since qemu started when the payload's first instruction ran. */
  qemuToPayload: number | null;
  notes: string[];
}

/** The agent's start-up marks (src/status/startup-marks.ts), as the timeline names them. */
const STARTUP_STEPS: Record<string, string> = {
  main: "runtime up, main() entered",
  loaded: "run command loaded",
  gather: "reading inputs",
  metadata: "metadata and user_data read",
  "user-data": "user_data parsed",
  config: "configuration merged and validated",
  mjf: "Machine/Job Features read",
  plan: "plan built",
  services: "heartbeat and watches started",
};

const read = (path: string): string | null => (existsSync(path) ? readFileSync(path, "utf8") : null);

function env(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of (read(join(dir, "boot.env")) ?? "").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return m;
}

const CONSOLE_EVENTS: readonly [RegExp, string][] = [
  [/Linux version/, "kernel: first line"],
  [/Run \/init as init process/, "initramfs: /init"],
  [/EXT4-fs \(vda\): mounted/, "root file system mounted"],
  [/systemd\[1\]: systemd \d+/, "systemd: started"],
  [/reboot: Power down/, "kernel: power down"],
  [/reboot: Restarting system/, "kernel: restart (not a power-off)"],
  [/soft lockup/, "kernel: soft lockup"],
];

/** cloud-init.log time stamps (`2026-11-22 05:56:50,045`, the guest's UTC) as epoch seconds. */
function cloudInitTime(line: string): number | null {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3})/.exec(line);
  return m ? Date.parse(`${m[1]}T${m[2]}.${m[3]}Z`) / 1000 : null;
}

export function buildTimeline(dir: string): Timeline {
  const e = env(dir);
  const notes: string[] = [];
  const events: TimelineEvent[] = [];
  const qemuStart = Number(e.get("qemu_start"));
  const qemuEnd = Number(e.get("qemu_end"));
  const push = (t: number | null, event: string, source: string): void => {
    if (t !== null && Number.isFinite(t)) events.push({ t, event, source });
  };

  // Kernel uptime -> qemu time.
  const consoleLines = (read(join(dir, "console.log")) ?? "").split("\n");
  const uptimeOf = (line: string): number | null => {
    const m = /^\[\s*(\d+\.\d+)\]/.exec(line);
    return m ? Number(m[1]) : null;
  };
  let powerDown: number | null = null;
  for (const line of consoleLines) if (/reboot: Power down/.test(line)) powerDown = uptimeOf(line);
  let k = 0;
  if (powerDown !== null && Number.isFinite(qemuStart) && Number.isFinite(qemuEnd)) {
    k = qemuEnd - qemuStart - powerDown;
  } else {
    notes.push("no power-off in console.log: guest times are shown as uptime (firmware time not known)");
  }
  const fromUptime = (u: number | null): number | null => (u === null ? null : u + k);
  const seen = new Set<string>();
  for (const line of consoleLines) {
    for (const [re, label] of CONSOLE_EVENTS) {
      if (!seen.has(label) && re.test(line)) {
        seen.add(label);
        push(fromUptime(uptimeOf(line)), label, "console.log");
      }
    }
  }
  push(0, "qemu: started", "boot.sh");
  if (Number.isFinite(qemuEnd)) push(qemuEnd - qemuStart, "qemu: exited", "boot.sh");

  // Guest wall clock -> uptime, from cloud-init's stage lines.
  const cloudInit = (read(join(dir, "guest/var/log/cloud-init.log")) ?? "").split("\n");
  let wallMinusUptime: number | null = null;
  for (const line of cloudInit) {
    const stage = /running '([a-z:-]+)' at .* Up (\d+(?:\.\d+)?) seconds/.exec(line);
    const t = cloudInitTime(line);
    if (stage && t !== null) {
      wallMinusUptime ??= t - Number(stage[2]);
      push(fromUptime(Number(stage[2])), `cloud-init: ${stage[1]} starts`, "cloud-init.log");
    }
  }
  const fromWall = (w: number): number | null => (wallMinusUptime === null ? null : fromUptime(w - wallMinusUptime));
  if (wallMinusUptime === null) notes.push("no cloud-init.log from the guest: guest wall-clock events are left out");
  let userDataStart: number | null = null;
  for (const line of cloudInit) {
    const t = cloudInitTime(line);
    if (t === null) continue;
    const finish = /handlers\.py\[DEBUG\]: finish: (init-local|init-network|modules-config|modules-final): (\w+)/.exec(line);
    if (finish) push(fromWall(t), `cloud-init: ${finish[1]} ends (${finish[2]})`, "cloud-init.log");
    if (userDataStart === null && /Running command \['\/var\/lib\/cloud\/instance\/scripts\//.test(line)) {
      userDataStart = fromWall(t);
      push(userDataStart, "user_data: cloud-init starts the shell part", "cloud-init.log");
    }
  }

  // vacuum-mark lines: the bootstrap's log, the payload's output (guest copy and uploads).
  const marks = new Map<string, number>();
  const markFiles = [join(dir, "guest/var/log/vacuum-agent-bootstrap.log")];
  for (const d of [join(dir, "guest/var/spool/joboutputs"), join(dir, "joboutputs"), join(dir, "guest/var/log/vacuum-agent")]) {
    if (existsSync(d)) for (const f of readdirSync(d)) if (statSync(join(d, f)).isFile()) markFiles.push(join(d, f));
  }
  for (const f of markFiles) {
    for (const line of (read(f) ?? "").split("\n")) {
      const m = /vacuum-mark ([A-Za-z0-9_.-]+) (\d+\.\d+)/.exec(line);
      if (m && !marks.has(m[1]!)) marks.set(m[1]!, Number(m[2]));
    }
  }
  for (const [name, w] of marks) push(fromWall(w), `mark: ${name}`, "vacuum-mark");

  // The agent's stage records, and its start-up steps (ms since its exec, src/status/startup-marks.ts).
  let startupShown = false;
  for (const name of ["guest/var/log/vacuum-agent/agent.jsonl", "joboutputs/vacuum-agent.jsonl"]) {
    const text = read(join(dir, name));
    if (text === null) continue;
    for (const line of text.split("\n")) {
      let r: { event?: unknown; stage?: unknown; time?: unknown; state?: unknown; msg?: unknown; startupMs?: unknown };
      try {
        r = JSON.parse(line) as typeof r;
      } catch {
        continue;
      }
      if (!startupShown && r.msg === "services started" && r.startupMs && typeof r.startupMs === "object" && marks.has("agent-exec")) {
        startupShown = true;
        const exec = fromWall(marks.get("agent-exec")!);
        for (const [step, ms] of Object.entries(r.startupMs as Record<string, number>)) {
          if (typeof ms === "number" && exec !== null) push(exec + ms / 1000, `agent start-up: ${STARTUP_STEPS[step] ?? step}`, "agent.jsonl startupMs");
        }
      }
      if ((r.event !== "stage-start" && r.event !== "stage-finish") || typeof r.stage !== "string" || typeof r.time !== "string") continue;
      const w = Date.parse(r.time) / 1000;
      const what = r.event === "stage-start" ? "starts" : `ends${typeof r.state === "string" ? ` (${r.state})` : ""}`;
      push(fromWall(w), `agent: ${r.stage} ${what}`, name.split("/").pop()!);
    }
    break;
  }

  // The host's receiver.
  const requests = read(join(dir, "requests.jsonl"));
  if (requests !== null && Number.isFinite(qemuStart)) {
    const firsts = new Set<string>();
    for (const line of requests.split("\n")) {
      let r: { t?: number; end?: number; method?: string; path?: string; status?: number; host?: string };
      try {
        r = JSON.parse(line) as typeof r;
      } catch {
        continue;
      }
      if (typeof r.t !== "number" || typeof r.path !== "string") continue;
      const meta = (r.host ?? "").startsWith("169.254.169.254");
      const key = meta ? "metadata" : `${r.method} ${r.path}`;
      if (r.method === "GET" && /\/agent(\.zst|\.gz)?$/.test(r.path) && r.status === 200) {
        push(r.t - qemuStart, `host: GET ${r.path} starts`, "requests.jsonl");
        if (typeof r.end === "number") push(r.end - qemuStart, `host: GET ${r.path} sent`, "requests.jsonl");
        continue;
      }
      if (firsts.has(key)) continue;
      firsts.add(key);
      push(r.t - qemuStart, meta ? `host: first metadata request (${r.path} ${r.status})` : `host: ${r.method} ${r.path} ${r.status}`, "requests.jsonl");
    }
  }

  // The manager's request log, each line stamped with the host time it was written: for a GET that
  // is when the answer starts, for a PUT when the upload is stored. VM paths are shortened to vm/.
  const managerLog = read(join(dir, "manager.log"));
  if (managerLog !== null && Number.isFinite(qemuStart)) {
    const firsts = new Set<string>();
    for (const line of managerLog.split("\n")) {
      const m = /^(\d+\.\d+) manager: ([A-Z]+) "([^"]*)" (\d{3}) /.exec(line);
      if (!m) continue;
      const t = Number(m[1]) - qemuStart;
      if (t < 0) continue; // the host's own requests before the boot (the seed's user_data)
      const path = m[3]!.replace(/^\/vms\/[^/]+\/[^/]+\//, "vm/");
      const what = `${m[2]} ${path} ${m[4]}`;
      if (/^\/agents\//.test(path)) {
        push(t, `manager: ${what}`, "manager.log");
        continue;
      }
      if (firsts.has(what)) continue;
      firsts.add(what);
      push(t, `manager: ${what}`, "manager.log");
    }
  }

  events.sort((a, b) => a.t - b.t);
  const payloadStart = marks.has("payload-start") ? fromWall(marks.get("payload-start")!) : null;
  const agentExec = marks.has("agent-exec") ? fromWall(marks.get("agent-exec")!) : null;
  const prefetchStart = marks.has("prefetch-start") ? fromWall(marks.get("prefetch-start")!) : null;
  const prefetchDone = marks.has("prefetch-done") ? fromWall(marks.get("prefetch-done")!) : null;
  return {
    events,
    userDataToPayload: userDataStart !== null && payloadStart !== null ? payloadStart - userDataStart : null,
    userDataToAgent: userDataStart !== null && agentExec !== null ? agentExec - userDataStart : null,
    prefetchToPayload: prefetchStart !== null && payloadStart !== null ? payloadStart - prefetchStart : null,
    prefetchSeconds: prefetchStart !== null && prefetchDone !== null ? prefetchDone - prefetchStart : null,
    agentToPayload: agentExec !== null && payloadStart !== null ? payloadStart - agentExec : null,
    qemuToPayload: payloadStart,
    notes,
  };
}

export function timelineMarkdown(t: Timeline): string {
  const rows = ["| t (s since qemu start) | Δ (s) | event | from |", "|---:|---:|---|---|"];
  let prev = 0;
  for (const e of t.events) {
    rows.push(`| ${e.t.toFixed(2)} | ${(e.t - prev).toFixed(2)} | ${e.event} | ${e.source} |`);
    prev = e.t;
  }
  const lines = [...rows, ""];
  if (t.userDataToAgent !== null) lines.push(`user_data start → agent exec (download included): **${t.userDataToAgent.toFixed(2)} s**`);
  if (t.userDataToPayload !== null) lines.push(`user_data start → payload's first instruction: **${t.userDataToPayload.toFixed(2)} s** (issue 9 target: 3 s)`);
  if (t.agentToPayload !== null) lines.push(`agent exec → payload's first instruction (the agent's share): **${t.agentToPayload.toFixed(2)} s**`);
  if (t.prefetchSeconds !== null) lines.push(`prefetch in cloud-init's init stage (download + sha256): ${t.prefetchSeconds.toFixed(2)} s`);
  if (t.prefetchToPayload !== null) lines.push(`prefetch start (bootcmd) → payload's first instruction: ${t.prefetchToPayload.toFixed(2)} s`);
  if (t.qemuToPayload !== null) lines.push(`qemu start → payload's first instruction: ${t.qemuToPayload.toFixed(2)} s`);
  for (const n of t.notes) lines.push(`note: ${n}`);
  return lines.join("\n") + "\n";
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: bun scripts/vm/timeline.ts OUT-DIR [--json]\n");
    process.exit(64);
  }
  const t = buildTimeline(dir);
  process.stdout.write(process.argv.includes("--json") ? JSON.stringify(t, null, 2) + "\n" : timelineMarkdown(t));
}
