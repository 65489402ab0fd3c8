import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createExecutor, iptablesCheckForm, type ExecutorOptions } from "../../src/exec/executor.ts";
import { CommandError, type CommandResult, type RunCommand, type RunOptions, type SpawnDetached } from "../../src/exec/runner.ts";
import type { Action } from "../../src/plan/actions.ts";
import { allowSubprocess } from "../setup/forbid-subprocess.ts";

const isRoot = process.getuid?.() === 0;
const SECRET = "tok-5e3cr3t-0123456789";

let root: string;
let logged: { level: string; msg: string; fields?: Record<string, unknown> }[];
const log = {
  info: (msg: string, fields?: Record<string, unknown>) => logged.push({ level: "info", msg, ...(fields ? { fields } : {}) }),
  warn: (msg: string, fields?: Record<string, unknown>) => logged.push({ level: "warn", msg, ...(fields ? { fields } : {}) }),
  error: (msg: string, fields?: Record<string, unknown>) => logged.push({ level: "error", msg, ...(fields ? { fields } : {}) }),
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "executor-"));
  logged = [];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const modeOf = (p: string) => statSync(p).mode & 0o7777;

/** Every path under the root, for "nothing else changed". */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(`${relative(dir, p)}${e.isDirectory() ? "/" : ""}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** A runner that records argv and answers from a script; nothing is spawned. */
function fakeRunner(answer: (argv: readonly string[]) => number = () => 0): { run: RunCommand; calls: { argv: string[]; o: RunOptions }[] } {
  const calls: { argv: string[]; o: RunOptions }[] = [];
  const run: RunCommand = async (argv, o) => {
    calls.push({ argv: [...argv], o });
    const code = answer(argv);
    if (!(o.okCodes ?? [0]).includes(code)) throw new CommandError(`${argv.join(" ")}: exited with ${code}`, argv, code, null, "", false, 1);
    const r: CommandResult = { argv: [...argv], exitCode: code, signal: null, stdout: "", stderr: "", durationMs: 1, ranAs: "root" };
    return r;
  };
  return { run, calls };
}

const refuseRunner: RunCommand = async (argv) => {
  throw new Error(`no command may run here: ${argv.join(" ")}`);
};
const refuseSpawner: SpawnDetached = async (argv) => {
  throw new Error(`no service may start here: ${argv.join(" ")}`);
};

const executor = (over: Partial<ExecutorOptions> = {}) =>
  createExecutor({ root, log, runner: refuseRunner, spawner: refuseSpawner, now: () => new Date("2031-01-01T00:00:00Z"), ...over });

describe("files under --root", () => {
  it("creates directories and files with their modes, secrets 0600", async () => {
    const results = await executor().apply(
      [
        { kind: "mkdir", path: "/var/lib/vacuum-agent", mode: 0o750, why: "state" },
        { kind: "write-file", path: "/etc/motd", contents: "hi\n", mode: 0o644, why: "motd" },
        { kind: "write-file", path: "/etc/grid-security/hostkey.pem", contents: SECRET, mode: 0o600, secret: true, why: "key" },
        { kind: "write-file", path: "/usr/local/bin/tool", contents: "#!/bin/sh\n", mode: 0o755, why: "tool" },
      ],
      "files",
    );
    expect(results.map((r) => [r.action.kind, r.ok, r.recorded])).toEqual([
      ["mkdir", true, false],
      ["write-file", true, false],
      ["write-file", true, false],
      ["write-file", true, false],
    ]);
    expect(modeOf(join(root, "var/lib/vacuum-agent"))).toBe(0o750);
    expect(readFileSync(join(root, "etc/motd"), "utf8")).toBe("hi\n");
    expect(modeOf(join(root, "etc/motd"))).toBe(0o644);
    expect(modeOf(join(root, "etc/grid-security/hostkey.pem"))).toBe(0o600);
    expect(modeOf(join(root, "etc/grid-security"))).toBe(0o755);
    expect(modeOf(join(root, "usr/local/bin/tool"))).toBe(0o755);
    expect(logged.map((l) => l.msg)).toContain("stage files: write-file /etc/motd (mode 0644, 3 bytes): motd");
    expect(JSON.stringify(logged)).not.toContain(SECRET);
  });

  it("follows a symlink in the tree as if the root were /, never out of it", async () => {
    mkdirSync(join(root, "real-etc"));
    symlinkSync("/real-etc", join(root, "etc"));
    const [r] = await executor().apply([{ kind: "write-file", path: "/etc/hostname", contents: "x\n", mode: 0o644, why: "name" }], "s");
    expect(r!.ok).toBe(true);
    expect(readFileSync(join(root, "real-etc/hostname"), "utf8")).toBe("x\n");
  });

  it.each([
    ["a relative path", { kind: "write-file", path: "etc/x", contents: "", mode: 0o644, why: "w" }, /expected an absolute machine path/],
    ["a path above /", { kind: "mkdir", path: "/../escape", mode: 0o755, why: "w" }, /goes above/],
    ["a secret readable by others", { kind: "write-file", path: "/k", contents: SECRET, mode: 0o640, secret: true, why: "w" }, /refusing to write a secret with mode 0640/],
  ] as [string, Action, RegExp][])("refuses %s", async (_name, action, message) => {
    const [r] = await executor().apply([action], "s");
    expect(r!.ok).toBe(false);
    expect(r!.error).toMatch(message);
    expect(r!.error).not.toContain(SECRET);
    expect(tree(root)).toEqual([]);
  });

  it("stops at the first failure: later actions are not performed", async () => {
    const results = await executor().apply(
      [
        { kind: "write-file", path: "/a", contents: "a", mode: 0o644, why: "first" },
        { kind: "write-file", path: "/key", contents: SECRET, mode: 0o644, secret: true, why: "bad" },
        { kind: "write-file", path: "/b", contents: "b", mode: 0o644, why: "never" },
      ],
      "stop",
    );
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    expect(results[1]!.error).toBe("write-file /key: refusing to write a secret with mode 0644: group and other must have no access (0600 or stricter)");
    expect(tree(root)).toEqual(["a"]);
    expect(logged.at(-1)).toMatchObject({ level: "error", msg: expect.stringContaining("stage stop: failed: write-file /key") });
  });

  it.skipIf(!isRoot)("chowns to names from the root's /etc/passwd and /etc/group", async () => {
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/passwd"), "condor:x:4321:4322::/var/lib/condor:/sbin/nologin\n");
    writeFileSync(join(root, "etc/group"), "condor:x:4322:\n");
    const owner = { user: "condor", group: "condor" };
    const results = await executor().apply(
      [
        { kind: "mkdir", path: "/var/lib/condor", mode: 0o700, owner, why: "home" },
        { kind: "write-file", path: "/var/lib/condor/token", contents: SECRET, mode: 0o600, owner, secret: true, why: "token" },
        { kind: "write-file", path: "/var/lib/condor/ghost", contents: "", mode: 0o600, owner: { user: "ghost", group: "condor" }, why: "unknown" },
      ],
      "own",
    );
    expect(results.every((r) => r.ok)).toBe(true);
    for (const p of ["var/lib/condor", "var/lib/condor/token"]) expect([statSync(join(root, p)).uid, statSync(join(root, p)).gid]).toEqual([4321, 4322]);
    expect(results[2]!.detail).toMatch(/owner not applied: unknown user ghost/);
  });

  it("skips chown, and says so, when not privileged", async () => {
    const [r] = await executor({ privileged: false }).apply(
      [{ kind: "mkdir", path: "/d", mode: 0o755, owner: { user: "condor", group: "condor" }, why: "d" }],
      "s",
    );
    expect(r).toMatchObject({ ok: true, detail: "owner condor:condor not applied (not running as root)" });
  });
});

describe("machine-wide actions under --root", () => {
  const MACHINE_WIDE: Action[] = [
    { kind: "create-user", name: "condor", home: "/var/lib/condor", shell: "/usr/sbin/nologin", system: true, why: "user" },
    { kind: "mount", device: "/dev/vdb", target: "/scratch", fstype: "ext4", options: ["noatime"], why: "scratch" },
    { kind: "set-hostname", hostname: "f1-03.example.org", why: "name" },
    { kind: "start-service", name: "condor_master", argv: ["condor_master", "-f"], why: "payload" },
    { kind: "firewall", rule: ["-A", "OUTPUT", "-d", "169.254.169.254", "-j", "REJECT"], why: "fence" },
    { kind: "run-command", argv: ["sysctl", "-w", "vm.swappiness=1"], timeoutMs: 5000, machineWide: true, env: { TOKEN: SECRET }, secretEnv: ["TOKEN"], why: "tune" },
    { kind: "power-off", why: "done" },
  ];

  it("are recorded in machine-actions.jsonl, secrets redacted, and nothing else changes", async () => {
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/hostname"), "old\n");
    const before = tree(root);
    const results = await executor().apply(MACHINE_WIDE, "machine");
    expect(results.map((r) => [r.action.kind, r.ok, r.recorded])).toEqual(MACHINE_WIDE.map((a) => [a.kind, true, true]));
    const logPath = join(root, "var/lib/vacuum-agent/machine-actions.jsonl");
    const text = readFileSync(logPath, "utf8");
    expect(text).not.toContain(SECRET);
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as { time: string; stage: string; action: Record<string, unknown> });
    expect(lines.map((l) => [l.time, l.stage, l.action.kind])).toEqual(MACHINE_WIDE.map((a) => ["2031-01-01T00:00:00.000Z", "machine", a.kind]));
    expect(lines[5]!.action.env).toEqual({ TOKEN: "<secret: 22 bytes, redacted>" });
    expect(tree(root)).toEqual([...before, "var/", "var/lib/", "var/lib/vacuum-agent/", "var/lib/vacuum-agent/machine-actions.jsonl"].sort());
    expect(readFileSync(join(root, "etc/hostname"), "utf8")).toBe("old\n");
    expect(results[0]!.detail).toBe(`recorded in ${logPath}, not performed (--root)`);
  });

  it("runs run-commands that are not machine-wide, in the rooted cwd", async () => {
    allowSubprocess(["sh"]);
    const results = await executor({ runner: undefined }).apply(
      [
        { kind: "mkdir", path: "/work", mode: 0o755, why: "cwd" },
        { kind: "run-command", argv: ["sh", "-c", "pwd > out.txt"], timeoutMs: 5000, cwd: "/work", why: "write" },
        { kind: "run-command", argv: ["sh", "-c", "echo $TOKEN >&2; exit 4"], timeoutMs: 5000, env: { TOKEN: SECRET }, secretEnv: ["TOKEN"], why: "fail" },
      ],
      "cmd",
    );
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(readFileSync(join(root, "work/out.txt"), "utf8")).toBe(`${join(root, "work")}\n`);
    expect(results[1]!.detail).toMatch(/^exit 0 after \d+ ms$/);
    expect(results[2]!.error).toMatch(/^run-command sh: sh -c .*: exited with 4: <redacted>$/);
  });
});

describe("fetch", () => {
  const BODY = Buffer.from("#!/bin/sh\necho payload\n");
  const GOOD = createHash("sha256").update(BODY).digest("hex");
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/payload.sh") res.writeHead(200, { "content-length": BODY.length }).end(BODY);
      else res.writeHead(404).end("no");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const fetchAction = (over: Partial<Extract<Action, { kind: "fetch" }>> = {}): Action => ({
    kind: "fetch",
    url: `${base}/payload.sh`,
    path: "/opt/payload.sh",
    sha256: GOOD,
    mode: 0o755,
    timeoutMs: 5000,
    why: "payload",
    ...over,
  });

  it("writes the file when the sha256 matches", async () => {
    const [r] = await executor().apply([fetchAction({ sha256: GOOD.toUpperCase() })], "fetch");
    expect(r).toMatchObject({ ok: true, detail: `${BODY.length} bytes, sha256 ${GOOD}` });
    expect(readFileSync(join(root, "opt/payload.sh"))).toEqual(BODY);
    expect(modeOf(join(root, "opt/payload.sh"))).toBe(0o755);
  });

  it("fails on a wrong sha256, naming both, and writes nothing", async () => {
    const wrong = "0".repeat(64);
    const [r] = await executor().apply([fetchAction({ sha256: wrong })], "fetch");
    expect(r!.ok).toBe(false);
    expect(r!.error).toBe(`fetch /opt/payload.sh: sha256 mismatch: expected ${wrong}, got ${GOOD} (${BODY.length} bytes); file not written`);
    expect(existsSync(join(root, "opt/payload.sh"))).toBe(false);
    expect(existsSync(join(root, "opt")) ? readdirSync(join(root, "opt")) : []).toEqual([]);
  });

  it("fails on an HTTP error status", async () => {
    const [r] = await executor().apply([fetchAction({ url: `${base}/missing` })], "fetch");
    expect(r!.error).toBe("fetch /opt/payload.sh: HTTP 404, expected 200");
  });

  it("uses an injected fetch and passes the timeouts", async () => {
    const seen: unknown[] = [];
    const fake: ExecutorOptions["fetch"] = async (req) => {
      seen.push(req);
      return { status: 200, headers: {}, body: BODY, text: () => BODY.toString() };
    };
    const [r] = await executor({ fetch: fake }).apply([fetchAction({ url: "http://example.invalid/x", timeoutMs: 60_000 })], "fetch");
    expect(r!.ok).toBe(true);
    expect(seen).toEqual([expect.objectContaining({ url: "http://example.invalid/x", connectTimeoutMs: 10_000, timeoutMs: 60_000 })]);
  });
});

describe("machine-wide actions on the machine itself (fake runner, nothing spawned)", () => {
  const sysrqWrites: string[] = [];
  const waits: number[] = [];
  // Never the real /proc/sysrq-trigger nor a real minute's wait in a unit test.
  const onMachine = (run: RunCommand) =>
    createExecutor({ root: null, log, runner: run, spawner: refuseSpawner, sysrq: (c) => void sysrqWrites.push(c), sleep: async (ms) => void waits.push(ms) });

  it("create-user: useradd as planned; an existing user is success without running anything", async () => {
    const { run, calls } = fakeRunner();
    const results = await onMachine(run).apply(
      [
        { kind: "create-user", name: "vacuum-test-no-such-user", home: "/var/lib/vt", shell: "/usr/sbin/nologin", system: true, groups: ["a", "b"], why: "u" },
        { kind: "create-user", name: "root", home: "/root", shell: "/bin/sh", system: false, why: "exists" },
      ],
      "users",
    );
    expect(calls.map((c) => c.argv)).toEqual([
      ["useradd", "--system", "--home-dir", "/var/lib/vt", "--shell", "/usr/sbin/nologin", "--no-create-home", "--user-group", "--groups", "a,b", "vacuum-test-no-such-user"],
    ]);
    expect(results[1]).toMatchObject({ ok: true, detail: "user root already exists" });
  });

  it("alongside: actions marked so run at the same time as the one before them; results keep the plan's order", async () => {
    const started: string[] = [];
    const release: (() => void)[] = [];
    const run: RunCommand = (argv) =>
      new Promise((done) => {
        started.push(argv[0]!);
        release.push(() => done({ argv: [...argv], exitCode: 0, signal: null, stdout: "", stderr: "", durationMs: 1, ranAs: "root" }));
      });
    const cmd = (name: string, alongside?: true) => ({ kind: "run-command" as const, argv: [name], timeoutMs: 1000, ...(alongside ? { alongside } : {}), why: name });
    const applying = onMachine(run).apply([cmd("a"), cmd("b", true), cmd("c", true), cmd("d")], "together");
    await vi.waitFor(() => expect(started).toEqual(["a", "b", "c"])); // d waits for the group
    release.splice(0).reverse().forEach((r) => r());
    await vi.waitFor(() => expect(started).toEqual(["a", "b", "c", "d"]));
    release.splice(0).forEach((r) => r());
    const results = await applying;
    expect(results.map((r) => (r.action.kind === "run-command" ? r.action.argv[0] : "?"))).toEqual(["a", "b", "c", "d"]);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it("alongside: a failure in a group ends the stage once the whole group has ended", async () => {
    const { run, calls } = fakeRunner((argv) => (argv[0] === "bad" ? 3 : 0));
    const cmd = (name: string, alongside?: true) => ({ kind: "run-command" as const, argv: [name], timeoutMs: 1000, ...(alongside ? { alongside } : {}), why: name });
    const results = await onMachine(run).apply([cmd("bad"), cmd("ok", true), cmd("never")], "together");
    expect(calls.map((c) => c.argv[0])).toEqual(["bad", "ok"]);
    expect(results.map((r) => r.ok)).toEqual([false, true]);
  });

  it("mount: mount -t fstype -o options device target", async () => {
    const { run, calls } = fakeRunner();
    await onMachine(run).apply([{ kind: "mount", device: "/dev/vdz", target: "/vacuum-test-mnt", fstype: "ext4", options: ["rw", "noatime"], why: "m" }], "m");
    expect(calls.map((c) => c.argv)).toEqual([["mount", "-t", "ext4", "-o", "rw,noatime", "/dev/vdz", "/vacuum-test-mnt"]]);
  });

  it("mount: a target that is already a mount point is success", async () => {
    const { run, calls } = fakeRunner();
    const [r] = await onMachine(run).apply([{ kind: "mount", device: "proc", target: "/proc", fstype: "proc", options: [], why: "m" }], "m");
    expect(r).toMatchObject({ ok: true, detail: "/proc is already a mount point" });
    expect(calls).toEqual([]);
  });

  it("set-hostname: hostnamectl", async () => {
    const { run, calls } = fakeRunner();
    await onMachine(run).apply([{ kind: "set-hostname", hostname: "f1-03.example.org", why: "h" }], "h");
    expect(calls.map((c) => c.argv)).toEqual([["hostnamectl", "set-hostname", "f1-03.example.org"]]);
  });

  it.each([
    ["missing: checked, then appended", 1, [["iptables", "-w", "-C", "OUTPUT", "-d", "169.254.169.254", "-j", "REJECT"], ["iptables", "-w", "-A", "OUTPUT", "-d", "169.254.169.254", "-j", "REJECT"]], undefined],
    ["present: only checked", 0, [["iptables", "-w", "-C", "OUTPUT", "-d", "169.254.169.254", "-j", "REJECT"]], "rule already present"],
  ])("firewall rule %s", async (_name, checkCode, expected, detail) => {
    const { run, calls } = fakeRunner((argv) => (argv.includes("-C") ? checkCode : 0));
    const [r] = await onMachine(run).apply([{ kind: "firewall", rule: ["-A", "OUTPUT", "-d", "169.254.169.254", "-j", "REJECT"], why: "f" }], "f");
    expect(calls.map((c) => c.argv)).toEqual(expected);
    expect(r!.ok).toBe(true);
    expect(r!.detail).toBe(detail);
  });

  it("firewall: a bad rule (exit 2 from -C) fails", async () => {
    const { run } = fakeRunner((argv) => (argv.includes("-C") ? 2 : 0));
    const [r] = await onMachine(run).apply([{ kind: "firewall", rule: ["-A", "NOPE"], why: "f" }], "f");
    expect(r!.ok).toBe(false);
    expect(r!.error).toContain("exited with 2");
  });

  it("power-off: shutdown -h now, falling back to systemctl and poweroff -f; SysRq o if still up a minute later", async () => {
    sysrqWrites.length = 0;
    waits.length = 0;
    const { run, calls } = fakeRunner((argv) => (argv[0] === "shutdown" || argv[0] === "systemctl" ? 1 : 0));
    const [r] = await onMachine(run).apply([{ kind: "power-off", why: "p" }], "p");
    expect(calls.map((c) => c.argv)).toEqual([["shutdown", "-h", "now"], ["systemctl", "poweroff"], ["poweroff", "-f"]]);
    expect(r!.ok).toBe(true);
    expect(waits).toEqual([60_000]);
    expect(sysrqWrites).toEqual(["s", "o"]);
    expect(r!.detail).toMatch(/^sysrq-trigger o; shutdown -h now: exited with 1; systemctl poweroff: exited with 1; poweroff -f$/);
  });

  it("power-off: a SIGTERM while waiting (the shutdown reaching the agent) ends the action at once, no SysRq", async () => {
    sysrqWrites.length = 0;
    const { run } = fakeRunner(() => 0);
    const ex = createExecutor({ root: null, log, runner: run, spawner: refuseSpawner, sysrq: (c) => void sysrqWrites.push(c), sleep: async () => "sigterm" as const });
    const [r] = await ex.apply([{ kind: "power-off", why: "p" }], "p");
    expect(r).toMatchObject({ ok: true, detail: "SIGTERM: the machine is going down; shutdown -h now" });
    expect(sysrqWrites).toEqual([]);
  });

  it("power-off: nothing to ask at all goes straight to SysRq, without waiting", async () => {
    sysrqWrites.length = 0;
    waits.length = 0;
    const { run } = fakeRunner(() => 1);
    await onMachine(run).apply([{ kind: "power-off", why: "p" }], "p");
    expect(waits).toEqual([]);
    expect(sysrqWrites).toEqual(["s", "o"]);
  });

  it("run-command: user, env, cwd, okCodes and secret values reach the runner", async () => {
    const { run, calls } = fakeRunner(() => 3);
    const [r] = await onMachine(run).apply(
      [{ kind: "run-command", argv: ["x"], user: "condor", timeoutMs: 1234, env: { T: SECRET, A: "b" }, secretEnv: ["T"], cwd: "/tmp", okCodes: [3], why: "x" }],
      "r",
    );
    expect(r!.ok).toBe(true);
    expect(calls[0]!.o).toMatchObject({ user: "condor", timeoutMs: 1234, env: { T: SECRET, A: "b" }, cwd: "/tmp", okCodes: [3], secrets: [SECRET] });
  });
});

describe("iptablesCheckForm", () => {
  it.each([
    [["-A", "OUTPUT", "-j", "DROP"], ["-C", "OUTPUT", "-j", "DROP"]],
    [["-t", "nat", "--append", "POSTROUTING", "-j", "MASQUERADE"], ["-t", "nat", "-C", "POSTROUTING", "-j", "MASQUERADE"]],
    [["-I", "INPUT", "1", "-p", "tcp", "-j", "ACCEPT"], ["-C", "INPUT", "-p", "tcp", "-j", "ACCEPT"]],
    [["-I", "INPUT", "-p", "tcp"], ["-C", "INPUT", "-p", "tcp"]],
    [["-P", "FORWARD", "DROP"], null],
    [["-N", "VACUUM"], null],
  ])("%j -> %j", (rule, expected) => {
    expect(iptablesCheckForm(rule)).toEqual(expected);
  });
});
