import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHILD_PATH } from "../../src/exec/commands.ts";
import { CommandError, runCommand, spawnDetached, UnexpectedSubprocessError } from "../../src/exec/runner.ts";
import { allowSubprocess } from "../setup/forbid-subprocess.ts";

const isRoot = process.getuid?.() === 0;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "runner-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failureOf(p: Promise<unknown>): Promise<CommandError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CommandError);
  return err as CommandError;
}

describe("the forbid policy (test/setup/forbid-subprocess.ts)", () => {
  it("refuses a program the test did not allow", async () => {
    await expect(runCommand(["ls", "/"], { timeoutMs: 1000 })).rejects.toThrow(UnexpectedSubprocessError);
    await expect(spawnDetached(["sleep", "1"], {})).rejects.toThrow(UnexpectedSubprocessError);
  });

  it("an allowance lasts only for the test that made it", async () => {
    allowSubprocess(["true"]);
    await expect(runCommand(["true"], { timeoutMs: 5000 })).resolves.toMatchObject({ exitCode: 0 });
  });

  it("(the next test) is refused again", async () => {
    await expect(runCommand(["true"], { timeoutMs: 5000 })).rejects.toThrow(UnexpectedSubprocessError);
  });
});

describe("runCommand", () => {
  it("captures stdout and stderr and reports who it ran as", async () => {
    allowSubprocess(["sh"]);
    const r = await runCommand(["sh", "-c", "echo out; echo err >&2"], { timeoutMs: 5000 });
    expect(r).toMatchObject({ exitCode: 0, signal: null, stdout: "out\n", stderr: "err\n", argv: ["sh", "-c", "echo out; echo err >&2"] });
    expect(r.ranAs).toBeTruthy();
    expect(r.note).toBeUndefined();
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    [[0], 3, false],
    [[0, 3], 3, true],
    [[1], 0, false],
    [undefined, 0, true],
  ])("okCodes %j with exit %i: success %s", async (okCodes, code, ok) => {
    allowSubprocess(["sh"]);
    const p = runCommand(["sh", "-c", `exit ${code}`], { timeoutMs: 5000, ...(okCodes ? { okCodes } : {}) });
    if (ok) await expect(p).resolves.toMatchObject({ exitCode: code });
    else {
      const err = await failureOf(p);
      expect(err.exitCode).toBe(code);
      expect(err.message).toContain(`exited with ${code}`);
    }
  });

  it("puts the argv and the stderr tail in one line, secrets blanked", async () => {
    allowSubprocess(["sh"]);
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----";
    const err = await failureOf(
      runCommand(["sh", "-c", 'echo "first line" >&2; echo "token $TOKEN" >&2; printf "%s\\n" "$PEM" >&2; exit 2'], {
        timeoutMs: 5000,
        env: { TOKEN: "s3cr3t-value-123", PEM: pem },
        secrets: ["s3cr3t-value-123"],
      }),
    );
    expect(err.message).not.toContain("\n");
    expect(err.message).toMatch(/^sh -c .*: exited with 2: first line token <redacted> <redacted>$/);
    expect(err.message).not.toContain("s3cr3t-value-123");
    expect(err.message).not.toContain("MIIEvQIBADANBg");
    expect(err.stderrTail).toBe("first line token <redacted> <redacted>");
  });

  it("kills a sleep at its timeout with SIGTERM", async () => {
    allowSubprocess(["sleep"]);
    const t0 = Date.now();
    const err = await failureOf(runCommand(["sleep", "30"], { timeoutMs: 200 }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err).toMatchObject({ timedOut: true, signal: "SIGTERM", exitCode: null });
    expect(err.message).toContain("timed out after 200 ms");
  });

  it("kills the whole process group, so a shell's children do not hold it open", async () => {
    allowSubprocess(["sh"]);
    const t0 = Date.now();
    const err = await failureOf(runCommand(["sh", "-c", "sleep 30; echo never"], { timeoutMs: 200 }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err.timedOut).toBe(true);
  });

  it("sends SIGKILL after the grace when SIGTERM is ignored", async () => {
    allowSubprocess(["sh"]);
    const t0 = Date.now();
    const err = await failureOf(runCommand(["sh", "-c", "trap '' TERM; sleep 30"], { timeoutMs: 200, killGraceMs: 200 }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err).toMatchObject({ timedOut: true, signal: "SIGKILL" });
  });

  it("passes input on stdin", async () => {
    allowSubprocess(["cat"]);
    await expect(runCommand(["cat"], { timeoutMs: 5000, input: "hello" })).resolves.toMatchObject({ stdout: "hello" });
  });

  it("gives the child an explicit PATH and a minimal environment, not the agent's", async () => {
    allowSubprocess(["sh"]);
    process.env.VACUUM_RUNNER_TEST_LEAK = "leaked";
    try {
      const r = await runCommand(["sh", "-c", 'echo "$PATH|$LC_ALL|${VACUUM_RUNNER_TEST_LEAK:-absent}|$EXTRA"'], {
        timeoutMs: 5000,
        env: { EXTRA: "given" },
      });
      expect(r.stdout).toBe(`${CHILD_PATH}|C|absent|given\n`);
    } finally {
      delete process.env.VACUUM_RUNNER_TEST_LEAK;
    }
  });

  it("runs in cwd", async () => {
    allowSubprocess(["pwd"]);
    await expect(runCommand(["pwd"], { timeoutMs: 5000, cwd: dir })).resolves.toMatchObject({ stdout: `${dir}\n` });
  });

  it("reports a program that cannot be started", async () => {
    allowSubprocess(["no-such-program"]);
    const err = await failureOf(runCommand(["/nonexistent/no-such-program"], { timeoutMs: 5000 }));
    expect(err.message).toContain("cannot run: ENOENT");
    expect(err.exitCode).toBeNull();
  });

  it("refuses an empty argv", async () => {
    await expect(runCommand([], { timeoutMs: 5000 })).rejects.toThrow(/empty command line/);
  });
});

describe("the command table and stubs", () => {
  it("sends table commands to the stub directory, first on PATH, and a missing stub fails loudly", async () => {
    allowSubprocess(["hostname", "mount"]);
    const stubs = join(dir, "stubs");
    mkdirSync(stubs, { recursive: true });
    writeFileSync(join(stubs, "hostname"), '#!/bin/sh\necho "stub $* PATH=$PATH"\n');
    chmodSync(join(stubs, "hostname"), 0o755);
    const r = await runCommand(["hostname", "vm-1"], { timeoutMs: 5000, commands: { stubDir: stubs } });
    expect(r.stdout).toBe(`stub vm-1 PATH=${stubs}:${CHILD_PATH}\n`);
    const err = await failureOf(runCommand(["mount", "-a"], { timeoutMs: 5000, commands: { stubDir: stubs } }));
    expect(err.message).toContain("ENOENT");
  });
});

describe("users", () => {
  it("runs as itself, and says so, when it may not switch users", async () => {
    allowSubprocess(["id"]);
    const r = await runCommand(["id", "-u"], { timeoutMs: 5000, user: "nobody", privileged: false });
    expect(r.stdout).toBe(`${process.getuid!()}\n`);
    expect(r.note).toMatch(/asked to run as nobody, but not running as root: ran as /);
    expect(r.ranAs).not.toBe("nobody");
  });

  it.skipIf(!isRoot)("switches to the user with setpriv when root", async () => {
    allowSubprocess(["sh"]);
    const r = await runCommand(["sh", "-c", 'echo "$(id -u) $(id -g) $USER $HOME"'], { timeoutMs: 5000, user: "nobody" });
    expect(r.stdout).toBe("65534 65534 nobody /nonexistent\n");
    expect(r.ranAs).toBe("nobody");
    expect(r.note).toBeUndefined();
  });
});

describe("spawnDetached", () => {
  it("starts a service in the background, output appended to a file", async () => {
    allowSubprocess(["sh"]);
    const out = join(dir, "svc.log");
    const d = await spawnDetached(["sh", "-c", "echo started; exec sleep 30"], { outputPath: out });
    try {
      expect(d.pid).toBeGreaterThan(0);
      expect(() => process.kill(d.pid, 0)).not.toThrow();
      await expect.poll(() => readFileSync(out, "utf8"), { timeout: 3000 }).toBe("started\n");
    } finally {
      process.kill(d.pid, "SIGKILL");
    }
  });

  it("fails when the program cannot be started", async () => {
    allowSubprocess(["no-such-daemon"]);
    await expect(spawnDetached(["/nonexistent/no-such-daemon"], {})).rejects.toThrow(/cannot start: ENOENT/);
  });
});
