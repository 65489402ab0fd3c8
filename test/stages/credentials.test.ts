import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CaDirFacts } from "../../src/credentials/ca-dir.ts";
import { CREDENTIAL_PATHS } from "../../src/credentials/paths.ts";
import {
  caDirFacts,
  credentialProblems,
  credentials,
  planCaRehash,
  planCredentials,
  planMintProxy,
  PROXY_SECONDS_WITHOUT_DEADLINE,
} from "../../src/stages/credentials.ts";
import { makePki } from "../credentials/pki.ts";
import { makeContext, T0 } from "../support/context.ts";

const P = makePki(T0);
const DEADLINE = T0 + 86_400;
const PROXY = P.host.pem + P.host.key.rsaPem; // any cert+key bundle: the planner never parses it
const top = mkdtempSync(join(tmpdir(), "vacuum-credstage-"));
afterAll(() => rmSync(top, { recursive: true, force: true }));
/** An empty --root, so the planner never looks at this machine's /etc/grid-security. */
const emptyRoot = (): string => mkdtempSync(join(top, "root-"));
const NO_DIR: CaDirFacts = { path: "/etc/grid-security/certificates", exists: false, hashLinks: 0, certificateFiles: 0, cas: [], unreadable: [] };
const ROOT_OWNER = { user: "root", group: "root" };

describe("credentials stage", () => {
  it("is skipped without credentials in the user_data", () => {
    expect(credentials.skip(makeContext())).toBe("no credentials in the user_data (credentials.x509_proxy, credentials.hostcert and hostkey)");
    expect(credentialProblems(makeContext())).toEqual([]);
  });

  it.each([
    ["host certificate and key", { hostcert: P.host.pem, hostkey: P.host.key.pem }],
    ["a proxy only", { x509_proxy: PROXY }],
  ])("applies with %s", (_name, creds) => {
    expect(credentials.skip(makeContext({ config: { credentials: creds } }))).toBeNull();
  });

  type Row = [string, Parameters<typeof makeContext>[0], { kind: string; path?: string; mode?: number; secret?: boolean }[]];
  const rows: Row[] = [
    [
      "host certificate and key: /etc/grid-security, then a proxy minted from them",
      { config: { credentials: { hostcert: P.host.pem, hostkey: P.host.key.pem } } },
      [
        { kind: "mkdir", path: "/etc/grid-security", mode: 0o755 },
        { kind: "write-file", path: "/etc/grid-security/hostcert.pem", mode: 0o644 },
        { kind: "write-file", path: "/etc/grid-security/hostkey.pem", mode: 0o600, secret: true },
        { kind: "mkdir", path: "/var/lib/vacuum-agent/credentials", mode: 0o700 },
        { kind: "mint-proxy", path: "/var/lib/vacuum-agent/credentials/x509proxy.pem", mode: 0o600 },
      ],
    ],
    [
      "host certificate and key, mint_proxy false",
      { config: { credentials: { hostcert: P.host.pem, hostkey: P.host.key.pem, mint_proxy: false } } },
      [
        { kind: "mkdir", path: "/etc/grid-security", mode: 0o755 },
        { kind: "write-file", path: "/etc/grid-security/hostcert.pem", mode: 0o644 },
        { kind: "write-file", path: "/etc/grid-security/hostkey.pem", mode: 0o600, secret: true },
      ],
    ],
    [
      "a proxy from the user_data",
      { config: { credentials: { x509_proxy: PROXY } } },
      [
        { kind: "mkdir", path: "/var/lib/vacuum-agent/credentials", mode: 0o700 },
        { kind: "write-file", path: "/var/lib/vacuum-agent/credentials/x509proxy.pem", mode: 0o600, secret: true },
      ],
    ],
  ];

  it.each(rows)("plans %s", (_name, o, expected) => {
    const ctx = makeContext({ ...o, root: emptyRoot() });
    const actions = credentials.plan(ctx);
    expect(actions.map((a) => ({ kind: a.kind, ...("path" in a ? { path: a.path } : {}), ...("mode" in a ? { mode: a.mode } : {}), ...("secret" in a ? { secret: a.secret } : {}) }))).toEqual(expected);
    for (const a of actions) expect("owner" in a && a.owner).toEqual(ROOT_OWNER);
  });

  it("writes the user_data's PEM text as given (plus a final newline), and the same plan twice", () => {
    const ctx = makeContext({ config: { credentials: { hostcert: P.host.pem.trimEnd(), hostkey: P.host.key.pem, x509_proxy: PROXY } }, root: emptyRoot() });
    const actions = planCredentials(ctx, NO_DIR);
    const contents = Object.fromEntries(actions.flatMap((a) => (a.kind === "write-file" ? [[a.path, a.contents]] : [])));
    expect(contents).toEqual({
      [CREDENTIAL_PATHS.hostcert]: P.host.pem.trimEnd() + "\n",
      [CREDENTIAL_PATHS.hostkey]: P.host.key.pem,
      [CREDENTIAL_PATHS.x509proxy]: PROXY,
    });
    expect(planCredentials(ctx, NO_DIR)).toEqual(actions);
  });
});

describe("planMintProxy", () => {
  const host = { hostcert: P.host.pem, hostkey: P.host.key.pem };
  it.each([
    ["until the deadline", { config: { credentials: host }, deadline: { deadline: DEADLINE } }, DEADLINE],
    ["a week without a deadline", { config: { credentials: host } }, T0 + PROXY_SECONDS_WITHOUT_DEADLINE],
  ])("mints %s", (_name, o, notAfter) => {
    expect(planMintProxy(makeContext(o))).toEqual({
      kind: "mint-proxy",
      certPath: "/etc/grid-security/hostcert.pem",
      keyPath: "/etc/grid-security/hostkey.pem",
      path: "/var/lib/vacuum-agent/credentials/x509proxy.pem",
      notAfter,
      owner: ROOT_OWNER,
      mode: 0o600,
      why: "RFC 3820 proxy from the host certificate, valid until the VM's deadline",
    });
  });

  it.each([
    ["mint_proxy is false", { ...host, mint_proxy: false }],
    ["the user_data brings a proxy (it wins)", { ...host, x509_proxy: PROXY }],
    ["there is no host key", { hostcert: P.host.pem }],
    ["there are no credentials", {}],
  ])("mints nothing when %s", (_name, creds) => {
    expect(planMintProxy(makeContext({ config: { credentials: creds } }))).toBeNull();
  });
});

describe("planCaRehash", () => {
  const facts = (o: Partial<CaDirFacts>): CaDirFacts => ({ ...NO_DIR, exists: true, ...o });
  it.each([
    ["certificates without links", facts({ certificateFiles: 3, hashLinks: 0 }), true],
    ["some links missing", facts({ certificateFiles: 3, hashLinks: 2 }), true],
    ["every certificate linked (c_rehash: two links each)", facts({ certificateFiles: 3, hashLinks: 6 }), false],
    ["only links (CVMFS grid.cern.ch)", facts({ certificateFiles: 0, hashLinks: 250 }), false],
    ["an empty directory", facts({}), false],
    ["no directory yet", NO_DIR, false],
  ])("%s", (_name, f, planned) => {
    const actions = planCaRehash(makeContext(), f);
    expect(actions).toEqual(
      planned
        ? [{ kind: "run-command", argv: ["openssl", "rehash", "."], cwd: "/etc/grid-security/certificates", timeoutMs: 60_000, machineWide: false, why: expect.stringMatching(/hash link/) }]
        : [],
    );
  });

  it("is planned from the CA directory under --root, after the credentials", () => {
    const root = emptyRoot();
    mkdirSync(join(root, "etc/grid-security/certificates"), { recursive: true });
    writeFileSync(join(root, "etc/grid-security/certificates/TestGridCA.pem"), P.ca.pem);
    const ctx = makeContext({ root, config: { credentials: { x509_proxy: PROXY } } });
    expect(caDirFacts(ctx)).toMatchObject({ exists: true, certificateFiles: 1, hashLinks: 0 });
    expect(credentials.plan(ctx).map((a) => a.kind)).toEqual(["mkdir", "write-file", "run-command"]);
  });
});

describe("credentialProblems", () => {
  const shortHost = P.hostCert(T0 - 86_400, T0 + 3600);
  it.each([
    ["fine", { hostcert: P.host.pem, hostkey: P.host.key.pem }, []],
    [
      "a key of another certificate: error 500 at credentials.hostkey",
      { hostcert: P.host.pem, hostkey: P.otherKey.pem },
      [{ severity: "error", source: "user_data", path: "credentials.hostkey", code: 500, message: expect.stringMatching(/belongs to another certificate$/) }],
    ],
    [
      "ends before the deadline, policy warn: a warning",
      { hostcert: shortHost.pem, hostkey: P.host.key.pem },
      [{ severity: "warning", source: "user_data", path: "credentials.hostcert", message: expect.stringMatching(/23 h earlier/) }],
    ],
    [
      "ends before the deadline, policy fail: error 500",
      { hostcert: shortHost.pem, hostkey: P.host.key.pem, expiry_policy: "fail" as const },
      [{ severity: "error", source: "user_data", path: "credentials.hostcert", code: 500, message: expect.stringMatching(/23 h earlier/) }],
    ],
  ])("%s", (_name, creds, expected) => {
    const ctx = makeContext({ config: { credentials: creds }, deadline: { deadline: DEADLINE }, root: emptyRoot() });
    expect(credentialProblems(ctx, NO_DIR).filter((p) => p.severity !== "info")).toEqual(expected);
  });

  it("names the source the value came from, and says when the CA directory is not there yet", () => {
    const ctx = makeContext({ config: { credentials: { hostcert: P.host.pem, hostkey: P.otherKey.pem } }, root: emptyRoot() });
    ctx.provenance["credentials.hostkey"] = { source: "command line" };
    expect(credentialProblems(ctx)).toEqual([
      { severity: "error", source: "command line", path: "credentials.hostkey", code: 500, message: expect.any(String) },
      { severity: "info", source: "default", path: "credentials.ca_dir", message: expect.stringMatching(/^\/etc\/grid-security\/certificates does not exist \(yet\)/) },
    ]);
  });
});
