import { problem, type Problem, type Source } from "../config/problem.ts";
import type { MintProxyAction } from "../plan/actions.ts";
import type { Context } from "../context/context.ts";
import { probeCaDir, needsRehash, type CaDirFacts } from "../credentials/ca-dir.ts";
import { checkCredentials, type CredentialItem } from "../credentials/check.ts";
import { CREDENTIAL_PATHS } from "../credentials/paths.ts";
import { rootedPath } from "../exec/rooted.ts";
import type { Action, Owner, RunCommandAction } from "../plan/actions.ts";
import type { Stage } from "./stage.ts";

const ROOT: Owner = { user: "root", group: "root" };

/** Without a known deadline a minted proxy lasts a week at most (and never past the host certificate). */
export const PROXY_SECONDS_WITHOUT_DEADLINE = 7 * 86_400;
export const REHASH_TIMEOUT_MS = 60_000;

const withNewline = (pem: string): string => (pem.endsWith("\n") ? pem : `${pem}\n`);

export function hasCredentials(ctx: Context): boolean {
  const c = ctx.config.credentials;
  return c.x509_proxy !== undefined || c.hostcert !== undefined || c.hostkey !== undefined;
}

// The CA directory is read once per Context, so the problems and the plan see the same facts.
// TODO(gather): a read-only probe belongs in the Context; until gather() records it, the first use reads it.
const caDirCache = new WeakMap<Context, CaDirFacts>();

/** What credentials.ca_dir holds now (rooted under --root). */
export function caDirFacts(ctx: Context): CaDirFacts {
  const cached = caDirCache.get(ctx);
  if (cached) return cached;
  const machinePath = ctx.config.credentials.ca_dir;
  let facts: CaDirFacts;
  try {
    facts = probeCaDir(rootedPath(ctx.root, machinePath), machinePath);
  } catch {
    facts = { path: machinePath, exists: false, hashLinks: 0, certificateFiles: 0, cas: [], unreadable: [] };
  }
  caDirCache.set(ctx, facts);
  return facts;
}

/** Where a credentials value came from (the user_data, or --set ...), for the problem's source. */
function sourceOf(ctx: Context, item: CredentialItem): Source {
  return ctx.provenance[item]?.source ?? (item === "credentials.ca_dir" ? "default" : "user_data");
}

/** Checks of the credentials for the planner's problem collection; an error (500) refuses the run. */
export function credentialProblems(ctx: Context, caDir: CaDirFacts = caDirFacts(ctx)): Problem[] {
  if (!hasCredentials(ctx)) return [];
  const c = ctx.config.credentials;
  const findings = checkCredentials({
    ...(c.x509_proxy !== undefined ? { x509_proxy: c.x509_proxy } : {}),
    ...(c.hostcert !== undefined ? { hostcert: c.hostcert } : {}),
    ...(c.hostkey !== undefined ? { hostkey: c.hostkey } : {}),
    now: ctx.startedAt,
    deadline: ctx.deadline.deadline,
    expiryPolicy: c.expiry_policy,
    caDir,
  });
  return findings.map((f) => problem(f.severity, sourceOf(ctx, f.item), f.item, f.message, f.severity === "error" ? 500 : undefined));
}

/**
 * The proposed `mint-proxy` action (to join the Action union in src/plan/actions.ts): the executor
 * reads the host certificate and key from the installed files, mints with mintProxyFile() from
 * src/credentials/mint-proxy.ts and writes `path` atomically. A dry run prints it and mints nothing.
 */
export type MintProxyActionFields = MintProxyAction;

/** When a proxy is minted: a host certificate and key, mint_proxy on, and no proxy in the user_data (that one wins). */
export function planMintProxy(ctx: Context): MintProxyActionFields | null {
  const c = ctx.config.credentials;
  if (!c.mint_proxy || c.x509_proxy !== undefined || c.hostcert === undefined || c.hostkey === undefined) return null;
  return {
    kind: "mint-proxy",
    certPath: CREDENTIAL_PATHS.hostcert,
    keyPath: CREDENTIAL_PATHS.hostkey,
    path: CREDENTIAL_PATHS.x509proxy,
    notAfter: ctx.deadline.deadline ?? ctx.startedAt + PROXY_SECONDS_WITHOUT_DEADLINE,
    owner: ROOT,
    mode: 0o600,
    why: "RFC 3820 proxy from the host certificate, valid until the VM's deadline",
  };
}

/**
 * `openssl rehash` when the CA directory has certificates but not their hash links (OpenSSL's
 * -CApath lookup, and so every grid client, finds a CA only through them). The directory is the
 * command's working directory, which the executor roots under --root; an argument would not be.
 */
export function planCaRehash(ctx: Context, caDir: CaDirFacts = caDirFacts(ctx)): RunCommandAction[] {
  if (!needsRehash(caDir)) return [];
  return [
    {
      kind: "run-command",
      argv: ["openssl", "rehash", "."],
      cwd: ctx.config.credentials.ca_dir,
      timeoutMs: REHASH_TIMEOUT_MS,
      machineWide: false,
      why: `${caDir.certificateFiles} CA certificate file(s) but ${caDir.hashLinks} hash link(s): OpenSSL finds CAs only through the links`,
    },
  ];
}

/** Pure given the CA directory's facts; see src/credentials/paths.ts for the layout. */
export function planCredentials(ctx: Context, caDir: CaDirFacts = caDirFacts(ctx)): Action[] {
  const c = ctx.config.credentials;
  const actions: Action[] = [];
  if (c.hostcert !== undefined && c.hostkey !== undefined) {
    actions.push(
      { kind: "mkdir", path: CREDENTIAL_PATHS.gridSecurity, mode: 0o755, owner: ROOT, why: "host credentials where grid software looks for them" },
      { kind: "write-file", path: CREDENTIAL_PATHS.hostcert, contents: withNewline(c.hostcert), mode: 0o644, owner: ROOT, why: "host certificate from the user_data" },
      { kind: "write-file", path: CREDENTIAL_PATHS.hostkey, contents: withNewline(c.hostkey), mode: 0o600, owner: ROOT, secret: true, why: "host key from the user_data" },
    );
  }
  const mint = planMintProxy(ctx);
  if (c.x509_proxy !== undefined || mint !== null) {
    actions.push({ kind: "mkdir", path: CREDENTIAL_PATHS.dir, mode: 0o700, owner: ROOT, why: "the agent's credentials, readable by root only" });
  }
  if (c.x509_proxy !== undefined) {
    actions.push({ kind: "write-file", path: CREDENTIAL_PATHS.x509proxy, contents: withNewline(c.x509_proxy), mode: 0o600, owner: ROOT, secret: true, why: "X.509 proxy from the user_data" });
  }
  if (mint) actions.push(mint);
  actions.push(...planCaRehash(ctx, caDir));
  return actions;
}

/** Host certificate, key and X.509 proxy from the user_data installed, a proxy minted, the CA directory hashed. */
export const credentials: Stage = {
  id: "credentials",
  title: "host certificate, key and X.509 proxy",
  skip: (ctx) => (hasCredentials(ctx) ? null : "no credentials in the user_data (credentials.x509_proxy, credentials.hostcert and hostkey)"),
  plan: (ctx) => planCredentials(ctx),
  failure: { code: 500, fatal: true, text: "Cannot install the credentials" },
};
