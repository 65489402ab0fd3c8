import { describe, expect, it } from "vitest";
import type { Action, ActionKind } from "../../src/plan/actions.ts";
import { actionToJson, describeAction, redactSecrets } from "../../src/plan/describe.ts";

const KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
const TOKEN = "tok-9f8e7d6c5b4a";

// A Record over ActionKind: adding a kind to the union without a row here fails to compile.
const ONE_OF_EACH: Record<ActionKind, Action> = {
  mkdir: { kind: "mkdir", path: "/var/lib/vacuum-agent", mode: 0o755, owner: { user: "root", group: "root" }, why: "agent state" },
  "write-file": { kind: "write-file", path: "/etc/motd", contents: "hello\nworld\n", mode: 0o644, why: "greeting" },
  "run-command": {
    kind: "run-command",
    argv: ["sh", "-c", "echo 'hi' && cvmfs_config setup"],
    user: "condor",
    timeoutMs: 30_000,
    env: { MODE: "fast", TOKEN },
    secretEnv: ["TOKEN"],
    okCodes: [0, 2],
    cwd: "/tmp",
    why: "apply cvmfs config",
  },
  "run-payload": {
    kind: "run-payload",
    name: "command",
    argv: ["/opt/payload.sh", "--fast"],
    user: "vacpayload",
    cwd: "/scratch/vacpayload",
    env: { TOKEN },
    secretEnv: ["TOKEN"],
    stdoutPath: "/var/spool/joboutputs/payload.stdout",
    stderrPath: "/var/spool/joboutputs/payload.stderr",
    stopAt: 1_790_000_000,
    killGraceSeconds: 30,
    liveness: { paths: ["/var/spool/joboutputs/payload.stdout"], staleSeconds: 3600 },
    why: "the payload",
  },
  fetch: {
    kind: "fetch",
    url: "https://user:pa55word@example.org/x.tar",
    path: "/opt/x.tar",
    sha256: "ab".repeat(32),
    mode: 0o600,
    timeoutMs: 60_000,
    why: "payload tarball",
  },
  "create-user": { kind: "create-user", name: "condor", home: "/var/lib/condor", shell: "/usr/sbin/nologin", system: true, groups: ["docker"], why: "payload user" },
  mount: { kind: "mount", device: "/dev/vdb", target: "/scratch", fstype: "ext4", options: ["rw", "noatime"], why: "scratch disk" },
  "set-hostname": { kind: "set-hostname", hostname: "f1-03.example.org", why: "name from metadata" },
  "start-service": { kind: "start-service", name: "condor_master", argv: ["condor_master", "-f"], user: "condor", env: { A: "b" }, why: "payload" },
  firewall: { kind: "firewall", rule: ["-A", "OUTPUT", "-d", "169.254.169.254", "-j", "REJECT"], why: "hide metadata from the payload" },
  "power-off": { kind: "power-off", why: "the VM is done" },
  "start-watchdog": { kind: "start-watchdog", at: 1_790_000_000, message: "700 Agent did not finish", why: "power off even if the agent dies" },
  "stage-joboutputs": { kind: "stage-joboutputs", spool: "/var/spool/joboutputs", files: [{ from: "/var/log/vacuum-agent/agent.jsonl", name: "vacuum-agent.jsonl" }], maxBytes: 1024, why: "logs" },
  "probe-cvmfs": { kind: "probe-cvmfs", proxy: "http://squid:3128;DIRECT", repositories: ["grid.cern.ch"], serverUrls: ["http://s1.example/cvmfs/@fqrn@"], required: true, connectTimeoutMs: 2000, timeoutMs: 5000, why: "proxies usable" },
  "mint-proxy": { kind: "mint-proxy", certPath: "/etc/grid-security/hostcert.pem", keyPath: "/etc/grid-security/hostkey.pem", path: "/var/lib/vacuum-agent/credentials/x509proxy.pem", notAfter: 1_790_000_000, owner: { user: "root", group: "root" }, mode: 0o600, why: "a proxy until the deadline" },
  "wait-paths": { kind: "wait-paths", paths: ["/cvmfs/grid.cern.ch/etc/grid-security/certificates"], timeoutMs: 300_000, why: "CA directory" },
  "fetch-pilot": {
    kind: "fetch-pilot",
    urls: ["https://pilots.example/lhcb/", "https://u:pw@mirror.example/pilot/"],
    dir: "/scratch/dirac/pilot",
    owner: { user: "diracpilot", group: "diracpilot" },
    requireManifest: false,
    concurrency: 16,
    retries: 3,
    timeoutMs: 60_000,
    tls: { caDir: "/etc/grid-security/certificates" },
    why: "the pilot directory",
  },
  "check-pilot-json": { kind: "check-pilot-json", path: "/scratch/dirac/pilot/pilot.json", ce: "vac01.example", queue: "default", vo: "lhcb", why: "fits this VM" },
  "run-pilot-hooks": { kind: "run-pilot-hooks", dir: "/scratch/dirac/pilot", env: { VO: "lhcb" }, timeoutSeconds: 300, why: "site hooks" },
  "upload-joboutputs": { kind: "upload-joboutputs", spool: "/var/spool/joboutputs", to: "https://vcycle.example:443/machines/s/m/joboutputs", last: ["shutdown_message"], budgetMs: 60_000, perRequestTimeoutMs: 30_000, caDir: "/etc/grid-security/certificates", clientCertificate: "x509_proxy", why: "for the site" },
};

const EXPECTED_FIRST: Record<ActionKind, string> = {
  mkdir: "mkdir /var/lib/vacuum-agent (mode 0755, owner root:root): agent state",
  "write-file": "write-file /etc/motd (mode 0644, 12 bytes): greeting",
  "run-command": `run-command sh -c 'echo '\\''hi'\\'' && cvmfs_config setup': apply cvmfs config`,
  "run-payload": "run-payload command: /opt/payload.sh --fast: the payload",
  fetch: "fetch https://<redacted>@example.org/x.tar -> /opt/x.tar (mode 0600): payload tarball",
  "create-user": "create-user condor (system user, home /var/lib/condor, shell /usr/sbin/nologin, groups docker): payload user",
  mount: "mount -t ext4 -o rw,noatime /dev/vdb /scratch: scratch disk",
  "set-hostname": "set-hostname f1-03.example.org: name from metadata",
  "start-service": "start-service condor_master: condor_master -f: payload",
  firewall: "firewall iptables -A OUTPUT -d 169.254.169.254 -j REJECT: hide metadata from the payload",
  "power-off": "power-off: the VM is done",
  "start-watchdog": "start-watchdog at 2026-09-21T14:13:20Z: power off even if the agent dies",
  "stage-joboutputs": "stage-joboutputs into /var/spool/joboutputs (each cut to 1024 bytes at most): logs",
  "probe-cvmfs": "probe-cvmfs http://squid:3128;DIRECT: proxies usable",
  "mint-proxy": "mint-proxy /var/lib/vacuum-agent/credentials/x509proxy.pem (mode 0600, owner root:root) from /etc/grid-security/hostcert.pem and /etc/grid-security/hostkey.pem: a proxy until the deadline",
  "wait-paths": "wait-paths /cvmfs/grid.cern.ch/etc/grid-security/certificates (up to 300 s): CA directory",
  "fetch-pilot": "fetch-pilot https://pilots.example/lhcb/ | https://<redacted>@mirror.example/pilot/ -> /scratch/dirac/pilot, owner diracpilot:diracpilot: the pilot directory",
  "check-pilot-json": "check-pilot-json /scratch/dirac/pilot/pilot.json for CE vac01.example, queue default, VO lhcb: fits this VM",
  "run-pilot-hooks": "run-pilot-hooks /scratch/dirac/pilot/include_vm_*.sh (only those checksums.sha512 verified; as root, 300 s each): site hooks",
  "upload-joboutputs": "upload-joboutputs /var/spool/joboutputs/* -> https://vcycle.example:443/machines/s/m/joboutputs/ (shutdown_message last): for the site",
};

const MACHINE_WIDE_LINE = "machine-wide: recorded, not performed, under --root";

describe("describeAction", () => {
  it("says when an action runs at the same time as the one before it (alongside), after its summary", () => {
    const a: Action = { kind: "run-command", argv: ["ip6tables", "-w", "-L"], timeoutMs: 30_000, machineWide: true, alongside: true, why: "v6" };
    const lines = describeAction(a);
    expect(lines[0]).toBe("run-command ip6tables -w -L: v6");
    expect(lines[1]).toBe("at the same time as the action before it");
    expect(describeAction({ ...a, alongside: undefined } as Action)).not.toContain("at the same time as the action before it");
  });

  it.each(Object.entries(ONE_OF_EACH))("%s", (kind, action) => {
    const lines = describeAction(action);
    expect(lines[0]).toBe(EXPECTED_FIRST[kind as ActionKind]);
    const machineWide = !["mkdir", "write-file", "fetch", "run-command", "run-payload", "start-watchdog", "stage-joboutputs", "upload-joboutputs", "probe-cvmfs", "wait-paths", "mint-proxy", "fetch-pilot", "check-pilot-json"].includes(kind);
    expect(lines.includes(MACHINE_WIDE_LINE)).toBe(machineWide);
    const json = actionToJson(action);
    expect(json.kind).toBe(kind);
    expect(json.machineWide).toBe(machineWide);
  });

  it("shows a file's full contents, indented", () => {
    expect(describeAction(ONE_OF_EACH["write-file"])).toEqual([EXPECTED_FIRST["write-file"], "  | hello", "  | world"]);
    expect(describeAction({ kind: "write-file", path: "/x", contents: "no newline", mode: 0o600, why: "w" }).slice(1)).toEqual([
      "  | no newline",
      "  (no newline at end)",
    ]);
  });

  it("gives a run-command's user, timeout, ok codes, cwd and env, secret values redacted", () => {
    const lines = describeAction(ONE_OF_EACH["run-command"]);
    expect(lines.slice(1)).toEqual([
      "as condor, timeout 30 s, ok exit codes 0,2, in /tmp",
      "env MODE=fast",
      "env TOKEN=<secret: 16 bytes, redacted>",
    ]);
    const mw = describeAction({ kind: "run-command", argv: ["sysctl", "-w", "vm.swappiness=10"], timeoutMs: 1500, machineWide: true, why: "tune" });
    expect(mw).toEqual(["run-command sysctl -w vm.swappiness=10: tune", "as root, timeout 1500 ms", MACHINE_WIDE_LINE]);
  });

  it("gives a fetch's sha256 or says it is not checked", () => {
    expect(describeAction(ONE_OF_EACH.fetch)[1]).toBe(`sha256 ${"ab".repeat(32)}, timeout 60 s`);
    expect(describeAction({ ...ONE_OF_EACH.fetch, sha256: undefined } as Action)[1]).toBe("sha256 not checked, timeout 60 s");
  });

  it("redacts a secret file in text and JSON", () => {
    const secret: Action = { kind: "write-file", path: "/etc/grid-security/hostkey.pem", contents: `token ${TOKEN}\n${KEY}`, mode: 0o600, secret: true, why: "host key" };
    const text = describeAction(secret).join("\n");
    const json = JSON.stringify(actionToJson(secret));
    for (const out of [text, json]) {
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain("MIIEvQ");
      expect(out).toContain("<secret: 130 bytes, redacted>");
    }
    expect(text).toContain("mode 0600");
  });

  it("redacts secret env values and URL credentials in JSON", () => {
    const json = JSON.stringify([ONE_OF_EACH["run-command"], ONE_OF_EACH.fetch].map(actionToJson));
    expect(json).not.toContain(TOKEN);
    expect(json).not.toContain("pa55word");
    expect(json).toContain('"MODE":"fast"');
    expect(actionToJson(ONE_OF_EACH["run-command"]).env).toEqual({ MODE: "fast", TOKEN: "<secret: 16 bytes, redacted>" });
  });

  it("redacts a key that slipped into a file not marked secret", () => {
    const text = describeAction({ kind: "write-file", path: "/x", contents: KEY, mode: 0o644, why: "oops" }).join("\n");
    expect(text).not.toContain("MIIEvQ");
    expect(text).toContain("<redacted>");
  });

  it("does not change the action it describes", () => {
    const copy = structuredClone(ONE_OF_EACH["run-command"]);
    actionToJson(ONE_OF_EACH["run-command"]);
    expect(ONE_OF_EACH["run-command"]).toEqual(copy);
  });
});

describe("redactSecrets", () => {
  it.each([
    ["a private key", `key:\n${KEY}done`, "key:\n<redacted>\ndone"],
    ["an RSA key and a certificate", "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- and -----BEGIN CERTIFICATE-----\nxyz\n-----END CERTIFICATE-----", "<redacted> and <redacted>"],
    ["a key cut short", "-----BEGIN PRIVATE KEY-----\nMIIEvQ", "<redacted>"],
    ["a bearer token", "Authorization: Bearer abc.DEF-123_x==", "Authorization: Bearer <redacted>"],
    ["basic credentials", "authorization: basic dXNlcjpwYXNz", "authorization: basic <redacted>"],
    ["a JWT", "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_nature-x end", "token=<redacted> end"],
    ["URL credentials", "proxy http://me:pw@squid:3128/ ok", "proxy http://<redacted>@squid:3128/ ok"],
    ["plain text", "set hostname f1-03.example.org (mode 0644)", "set hostname f1-03.example.org (mode 0644)"],
    ["an email address is not a URL credential", "mail admin@example.org", "mail admin@example.org"],
  ])("%s", (_name, input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });
});
