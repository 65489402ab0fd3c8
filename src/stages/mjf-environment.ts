import { safeUrl } from "../net/http-error.ts";
import type { Context } from "../context/context.ts";
import type { Stage } from "./stage.ts";

const PROFILE = "/etc/profile.d/vacuum-mjf.sh";

/** Shell-quote for a POSIX sh `export` line; values are URLs or paths but come from outside. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function mjfExports(ctx: Context): [string, string][] {
  const m = ctx.config.mjf;
  const out: [string, string][] = [];
  // Without URL credentials (the manager's per-VM token rides there): this file is world-readable
  // and the payload inherits these; only the agent itself reports with the token.
  if (m.machinefeatures) out.push(["MACHINEFEATURES", safeUrl(m.machinefeatures)]);
  if (m.jobfeatures) out.push(["JOBFEATURES", safeUrl(m.jobfeatures)]);
  if (m.joboutputs) out.push(["JOBOUTPUTS", safeUrl(m.joboutputs)]);
  return out;
}

/** $MACHINEFEATURES, $JOBFEATURES and $JOBOUTPUTS for login shells and for payloads (TN02, TN04). */
export const mjfEnvironment: Stage = {
  id: "mjf-environment",
  title: "Machine/Job Features environment",
  skip: (ctx) => (mjfExports(ctx).length === 0 ? "no Machine/Job Features or job outputs location known" : null),
  plan: (ctx) => [
    {
      kind: "write-file",
      path: PROFILE,
      mode: 0o644,
      contents: ["# Written by vacuum-agent: Machine/Job Features locations (HSF-TN-2016-02).", ...mjfExports(ctx).map(([k, v]) => `export ${k}=${q(v)}`), ""].join("\n"),
      why: "MJF locations for shells and payloads",
    },
  ],
  failure: { code: 500, fatal: false, text: "Cannot write the MJF environment" },
};
