// What can be known before the run about an htcondor payload that would never join its pool: each
// addressed by its configuration path, 600 (the experiment's template or credentials are wrong).
// What cannot be known here (HTCondor not installed, collector down, a token the pool rejects) ends
// the run itself with its own text: src/payloads/htcondor/outcome.ts.
// Never shows the token or the password, only what is wrong with them.

import { problem, type Problem } from "../../config/problem.ts";
import type { Context } from "../../context/context.ts";
import { isoSeconds } from "../../contract/unix-time.ts";
import { htcondorAuth } from "./auth.ts";
import { htcondorSettings } from "./settings.ts";

const P = "payload.htcondor";

/** The claims of an IDTOKEN (a JWT), or a description of why it is not one. */
export function idtokenClaims(token: string): { claims: { exp?: number; iss?: string; sub?: string } } | { error: string } {
  const parts = token.trim().split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return { error: "expected an IDTOKEN: three base64url parts separated by dots (condor_token_create's output)" };
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as unknown;
    if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return { error: "expected an IDTOKEN whose payload is a JSON object" };
    const c = claims as Record<string, unknown>;
    return { claims: { ...(typeof c.exp === "number" ? { exp: c.exp } : {}), ...(typeof c.iss === "string" ? { iss: c.iss } : {}), ...(typeof c.sub === "string" ? { sub: c.sub } : {}) } };
  } catch {
    return { error: "expected an IDTOKEN whose middle part is base64url JSON" };
  }
}

export function htcondorProblems(ctx: Context): Problem[] {
  if (ctx.config.payload.type !== "htcondor") return [];
  const s = htcondorSettings(ctx);
  const auth = htcondorAuth(ctx);
  const out: Problem[] = [];
  const err = (path: string, message: string) => out.push(problem("error", "user_data", path, message, 600));
  if (!s.collector) err(`${P}.collector`, "required for an htcondor payload: expected a host[:port] (##user_data_option_condor_host##)");
  if (s.ssl === "hostcert" && auth.ssl?.from !== "hostcert") err(`${P}.ssl`, "\"hostcert\" needs credentials.hostcert and credentials.hostkey");
  if (s.ssl === "x509_proxy" && auth.ssl?.from !== "x509_proxy") err(`${P}.ssl`, "\"x509_proxy\" needs credentials.x509_proxy (or a host certificate to mint one from)");
  if (!auth.token && !auth.password && !auth.ssl) {
    err(P, "no credential to join the pool: expected idtoken (##user_data_option_condor_idtoken##), pool_password_base64, or a host certificate or X.509 proxy for SSL");
  }
  if (auth.token) {
    const t = idtokenClaims(s.idtoken!);
    if ("error" in t) err(`${P}.idtoken`, t.error);
    else if (t.claims.exp !== undefined && t.claims.exp <= ctx.startedAt) err(`${P}.idtoken`, `the IDTOKEN expired at ${isoSeconds(t.claims.exp)}`);
    else if (t.claims.exp !== undefined && ctx.deadline.effective !== null && t.claims.exp < ctx.deadline.effective) {
      out.push(problem("warning", "user_data", `${P}.idtoken`, `the IDTOKEN expires at ${isoSeconds(t.claims.exp)}, before the VM's deadline ${isoSeconds(ctx.deadline.effective)}: the startd will then leave the pool`));
    }
  }
  if (auth.password && Buffer.from(s.pool_password_base64!.replace(/\s+/g, ""), "base64").length === 0) err(`${P}.pool_password_base64`, "expected base64 text of the pool password file; it decodes to nothing");
  if (s.idle_shutdown_seconds === 0 && ctx.deadline.effective === null) {
    out.push(problem("warning", "user_data", `${P}.idle_shutdown_seconds`, "0 with no deadline known: the startd never ends by itself; the VM runs until the site stops it"));
  }
  return out;
}
