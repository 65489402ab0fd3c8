import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedUrl } from "../../support/closed-port.ts";
import { afterEach, describe, expect, it } from "vitest";
import { readMetadata, type ConfigDriveDevice, type MetadataOptions } from "../../../src/context/metadata/index.ts";
import type { MetadataResult } from "../../../src/context/types.ts";
import { DEFAULT_USER_DATA, startMetadataServer, type MetadataServer, type MetadataServerOptions } from "../../support/metadata-server.ts";

const servers: MetadataServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function serve(opts: MetadataServerOptions): Promise<MetadataServer> {
  const s = await startMetadataServer(opts);
  servers.push(s);
  return s;
}


const quick = (url: string, extra: MetadataOptions = {}): MetadataOptions => ({
  baseUrl: url,
  gceBaseUrl: url,
  configDrive: null,
  connectTimeoutMs: 500,
  requestTimeoutMs: 1000,
  maxWaitMs: 0,
  ...extra,
});

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

function found(r: Awaited<ReturnType<typeof readMetadata>>): MetadataResult {
  if (r.provider === null) throw new Error(`expected a provider, got: ${r.problems.map((p) => p.message).join("; ")}`);
  return r;
}

describe("readMetadata against each emulated provider", () => {
  it.each([
    ["openstack", { variant: "openstack", uuid: "u-1", meta: { machinetype: "mt", machinefeatures: "https://v/mf", jobfeatures: "https://v/jf", joboutputs: "https://v/jo" } }, "openstack",
      { uuid: "u-1", hostname: "vm-01.example.org", name: "vm-01", availabilityZone: "nova", machinetype: "mt", machinefeatures: "https://v/mf", jobfeatures: "https://v/jf", joboutputs: "https://v/jo" }],
    ["ec2 (IMDSv2 optional)", { variant: "ec2", uuid: "i-abc" }, "ec2", { uuid: "i-abc", hostname: "vm-01.example.org" }],
    ["ec2 (IMDSv2 required)", { variant: "ec2", imdsv2: "required", uuid: "i-abc" }, "ec2", { uuid: "i-abc", hostname: "vm-01.example.org" }],
    ["vac", { variant: "vac", uuid: "6f1c0000-uuid" }, "vac",
      { uuid: "6f1c0000-uuid", hostname: "vm-01.example.org", name: "vm-01", availabilityZone: "factory1.example.org", machinetype: "example-prod",
        machinefeatures: "http://169.254.169.253/machinefeatures", jobfeatures: "http://169.254.169.253/jobfeatures", joboutputs: "http://169.254.169.253/joboutputs" }],
    ["gce", { variant: "gce", uuid: "123", meta: { machinetype: "mt", jobfeatures: "https://v/jf" } }, "gce", { uuid: "123", hostname: "vm-01.example.org", machinetype: "mt", jobfeatures: "https://v/jf" }],
  ] as const)("finds %s with its user_data and values", async (_name, serverOpts, provider, values) => {
    const s = await serve({ ...serverOpts, userData: "#cloud-config\nhello: 1\n" } as MetadataServerOptions);
    const r = found(await readMetadata(quick(s.url)));
    expect(r.provider).toBe(provider);
    expect(r.origin).toBe(s.url);
    expect(text(r.userData)).toBe("#cloud-config\nhello: 1\n");
    expect(r.values).toEqual(values);
    expect(r.problems).toEqual([]);
  });

  it("detects Vac quickly through the IMDSv1 path after 404 on OpenStack paths and 501 on PUT (case 3)", async () => {
    const s = await serve({ variant: "vac" });
    const t0 = Date.now();
    const r = found(await readMetadata(quick(s.url)));
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.provider).toBe("vac");
    expect(s.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      "GET /openstack/latest/meta_data.json",
      "PUT /latest/api/token",
      "GET /latest/user-data",
      "GET /latest/meta-data.json",
    ]);
    expect(r.attempts.map((a) => a.outcome)).toEqual([
      expect.stringMatching(/^404 Not Found/),
      expect.stringMatching(/^501 Not Implemented.*falling back to IMDSv1$/),
      expect.stringMatching(/^200 OK/),
      expect.stringMatching(/: Vac$/),
    ]);
    expect(s.requests[2]!.headers["x-aws-ec2-metadata-token"]).toBeUndefined();
  });

  it("uses the IMDSv2 token when the service requires one (case 4)", async () => {
    const s = await serve({ variant: "ec2", imdsv2: "required" });
    const r = found(await readMetadata(quick(s.url)));
    expect(r.provider).toBe("ec2");
    const put = s.requests.find((q) => q.method === "PUT")!;
    expect(put.path).toBe("/latest/api/token");
    expect(put.headers["x-aws-ec2-metadata-token-ttl-seconds"]).toBe("21600");
    const gets = s.requests.filter((q) => q.path.startsWith("/latest/") && q.method === "GET");
    expect(gets.length).toBeGreaterThan(0);
    for (const g of gets) expect(g.headers["x-aws-ec2-metadata-token"]).toEqual(expect.any(String));
  });

  it("returns a provider with null user_data when it has none (404)", async () => {
    const s = await serve({ variant: "openstack", userData: null });
    const r = found(await readMetadata(quick(s.url)));
    expect(r.provider).toBe("openstack");
    expect(r.userData).toBeNull();
  });

  it("sends Metadata-Flavor: Google on every GCE request (case 5)", async () => {
    const s = await serve({ variant: "gce" });
    const r = found(await readMetadata(quick(s.url)));
    expect(r.provider).toBe("gce");
    expect(text(r.userData)).toBe(DEFAULT_USER_DATA);
    const gce = s.requests.filter((q) => q.path.startsWith("/computeMetadata/"));
    expect(gce.length).toBe(7);
    for (const q of gce) expect(q.headers["metadata-flavor"]).toBe("Google");
  });

  it("never takes an answer without Metadata-Flavor: Google as GCE user_data (case 5)", async () => {
    const s = await serve({ variant: "gce", flavorHeader: false });
    const r = await readMetadata(quick(s.url));
    expect(r.provider).toBeNull();
    expect(r.problems[0]!.message).toContain('gce: answered 200 OK without "Metadata-Flavor: Google": not a GCE metadata server');
  });

  it("uses a separate GCE base URL when the first one is unreachable", async () => {
    const s = await serve({ variant: "gce" });
    const r = found(await readMetadata({ ...quick(await closedUrl()), gceBaseUrl: s.url }));
    expect(r.provider).toBe("gce");
    expect(r.origin).toBe(s.url);
  });
});

describe("readMetadata failures", () => {
  it.each([
    ["html everywhere", { variant: "html" }, ["openstack: meta_data.json answered HTML where JSON was expected", "ec2: not an EC2 metadata service: instance-id answered something that is not an instance id"]],
    ["500 everywhere", { variant: "error500" }, ["openstack: meta_data.json answered 500 Internal Server Error", "ec2: user-data answered 500 Internal Server Error", "gce: answered 500 Internal Server Error without"]],
    ["a server that never answers", { variant: "hang" }, ["openstack: no complete answer within 300 ms", "gce: no complete answer within 300 ms"]],
  ] as const)("reports %s as one error problem with one-line reasons", async (_name, serverOpts, reasons) => {
    const s = await serve(serverOpts as MetadataServerOptions);
    const r = await readMetadata(quick(s.url, { requestTimeoutMs: 300 }));
    expect(r.provider).toBeNull();
    expect(r.problems).toHaveLength(1);
    const p = r.problems[0]!;
    expect(p).toMatchObject({ severity: "error", source: "metadata", path: s.url, code: 500 });
    for (const reason of reasons) expect(p.message).toContain(reason);
    expect(p.message).not.toMatch(/\n|\bat .*\.ts:\d+/);
    for (const a of r.attempts) expect(a.outcome).not.toMatch(/\n/);
  });

  it("reports a refused connection once per origin per pass, without waiting on each provider", async () => {
    const url = await closedUrl();
    const r = await readMetadata(quick(url));
    expect(r.provider).toBeNull();
    expect(r.problems[0]!.message).toMatch(/^no metadata source answered in one pass: openstack: connection refused; ec2: connection refused; gce: connection refused$/);
    expect(r.attempts).toHaveLength(1);
  });

  it("succeeds when the server comes up within maxWaitMs (case 6)", async () => {
    const s = await serve({ variant: "vac", downForMs: 400 });
    const r = found(await readMetadata(quick(s.url, { maxWaitMs: 10_000, backoffMs: [100] })));
    expect(r.provider).toBe("vac");
    expect(r.attempts[0]!.outcome).toBe("connection refused");
  });

  it("gives up after maxWaitMs when the server never comes up (case 6)", async () => {
    const url = await closedUrl();
    const t0 = Date.now();
    const r = await readMetadata(quick(url, { maxWaitMs: 400, backoffMs: [100] }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(r.provider).toBeNull();
    expect(r.problems[0]!.message).toMatch(/^no metadata source answered in \d+ passes over 0 s: openstack: connection refused/);
    expect(r.attempts.length).toBeGreaterThanOrEqual(4);
  });

  it("backs off 1, 2, 4, 8, 16 s (capped) and stops at maxWaitMs, with an injected clock", async () => {
    const url = await closedUrl();
    let clock = 0;
    const sleeps: number[] = [];
    const r = await readMetadata(
      quick(url, {
        maxWaitMs: 120_000,
        now: () => clock,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock += ms;
        },
      }),
    );
    expect(r.provider).toBeNull();
    expect(sleeps.slice(0, 7)).toEqual([1000, 2000, 4000, 8000, 16000, 16000, 16000]);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(120_000);
    expect(sleeps.at(-1)).toBe(120_000 - 111_000);
    expect(r.problems[0]!.message).toContain(`in ${sleeps.length + 1} passes over 120 s`);
  });
});

describe("readMetadata from a config drive", () => {
  async function drive(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "config-drive-"));
    dirs.push(dir);
    for (const [name, body] of Object.entries(files)) {
      await mkdir(join(dir, name, ".."), { recursive: true });
      await writeFile(join(dir, name), body);
    }
    return dir;
  }
  const META = JSON.stringify({ uuid: "cd-1", hostname: "cd.example.org", meta: { machinetype: "mt-cd" } });

  it("reads meta_data.json and user_data from a directory before any network source", async () => {
    const dir = await drive({ "openstack/latest/meta_data.json": META, "openstack/latest/user_data": "ud-from-drive" });
    const s = await serve({ variant: "openstack" });
    const r = found(await readMetadata(quick(s.url, { configDrive: dir })));
    expect(r).toMatchObject({ provider: "config-drive", origin: dir, values: { uuid: "cd-1", hostname: "cd.example.org", machinetype: "mt-cd" } });
    expect(text(r.userData)).toBe("ud-from-drive");
    expect(s.requests).toEqual([]);
  });

  it("falls through to the metadata service when the directory has no meta_data.json", async () => {
    const dir = await drive({});
    const s = await serve({ variant: "openstack" });
    const r = found(await readMetadata(quick(s.url, { configDrive: dir })));
    expect(r.provider).toBe("openstack");
    expect(r.attempts[0]).toMatchObject({ provider: "config-drive", outcome: `no openstack/latest/meta_data.json in ${dir}` });
  });

  it.each([
    ["not JSON", "{oops", "openstack/latest/meta_data.json is not JSON"],
    ["JSON but not an object", "[1]", "openstack/latest/meta_data.json is JSON but not an object"],
  ])("says why a meta_data.json that is %s is refused", async (_n, body, reason) => {
    const dir = await drive({ "openstack/latest/meta_data.json": body });
    const r = await readMetadata(quick(await closedUrl(), { configDrive: dir }));
    expect(r.problems[0]!.message).toContain(`config-drive: ${reason}`);
  });

  it("mounts a config-2 device found by 'auto', reads it and releases it", async () => {
    const dir = await drive({ "openstack/latest/meta_data.json": META });
    const calls: string[] = [];
    const device: ConfigDriveDevice = {
      description: "/dev/disk/by-label/config-2",
      find: async () => "/dev/sr0",
      mount: async (dev) => {
        calls.push(`mount ${dev}`);
        return { dir, release: async () => void calls.push("release") };
      },
    };
    const r = found(await readMetadata(quick(await closedUrl(), { configDrive: "auto", configDriveDevice: device })));
    expect(r.provider).toBe("config-drive");
    expect(r.userData).toBeNull();
    expect(calls).toEqual(["mount /dev/sr0", "release"]);
  });

  it("records a missing config-2 device once, however many passes", async () => {
    const device: ConfigDriveDevice = { description: "/dev/disk/by-label/config-2", find: async () => null, mount: async () => Promise.reject(new Error("no")) };
    const r = await readMetadata(quick(await closedUrl(), { configDrive: "auto", configDriveDevice: device, maxWaitMs: 200, backoffMs: [50] }));
    const driveAttempts = r.attempts.filter((a) => a.provider === "config-drive");
    expect(driveAttempts).toEqual([{ provider: "config-drive", url: "/dev/disk/by-label/config-2", outcome: "no device labelled config-2", durationMs: expect.any(Number) }]);
    expect(r.problems[0]!.message).toContain("config-drive: no device labelled config-2; openstack: connection refused");
  });

  it("reports a device that cannot be mounted", async () => {
    const device: ConfigDriveDevice = {
      description: "/dev/disk/by-label/config-2",
      find: async () => "/dev/vdb",
      mount: async () => Promise.reject(new Error("mount failed: permission denied")),
    };
    const r = await readMetadata(quick(await closedUrl(), { configDrive: "auto", configDriveDevice: device }));
    expect(r.problems[0]!.message).toContain("config-drive: cannot mount /dev/vdb read-only: mount failed: permission denied");
  });
});
