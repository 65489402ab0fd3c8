// Deciding whether a PUT may write for a VM: the VM's token (Authorization: Bearer <token>, or the
// password of Basic auth, which a client sends for https://vm:<token>@host/... URLs), or else a
// client certificate whose DN starts with one of the machinetype's client_dn_prefixes. A token
// that is present decides alone: a wrong one is refused even when a certificate would pass, so a
// VM cannot be impersonated by sending a forged token alongside some other credential.

import type { X509Certificate } from "node:crypto";
import type { RequestInfo } from "../serve/server.ts";
import { certificateIdentity, dnAllowed } from "./client-cert.ts";
import { tokenMatches, type TokenKey } from "./vm-token.ts";

export type AuthOutcome = { ok: true; by: "token" | "certificate"; dn: string | null } | { ok: false; status: 401 | 403; why: string };

/** The token in an Authorization header, or null. */
export function tokenFrom(header: string | null): string | null {
  if (!header) return null;
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header);
  if (!m) return null;
  if (m[1]!.toLowerCase() === "bearer") return m[2]!;
  const decoded = Buffer.from(m[2]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : decoded.slice(colon + 1) || null;
}

export interface AuthContext {
  key: TokenKey;
  machinetype: string;
  vmId: string;
  dnPrefixes: readonly string[];
  clientCas: readonly X509Certificate[];
}

export function authorize(authorization: string | null, info: RequestInfo, c: AuthContext): AuthOutcome {
  const token = tokenFrom(authorization);
  if (token !== null) {
    return tokenMatches(c.key, c.machinetype, c.vmId, token) ? { ok: true, by: "token", dn: null } : { ok: false, status: 403, why: "a token that is not this VM's" };
  }
  if (info.peerChain.length === 0) return { ok: false, status: 401, why: "no token and no client certificate" };
  if (c.dnPrefixes.length === 0) return { ok: false, status: 403, why: "a client certificate, but the machinetype has no client_dn_prefixes" };
  const id = certificateIdentity(info.peerChain, info.peerAuthorized, c.clientCas);
  if ("problem" in id) return { ok: false, status: 403, why: id.problem };
  if (!dnAllowed(id.dn, c.dnPrefixes)) return { ok: false, status: 403, why: `the DN ${id.dn} matches no client_dn_prefixes` };
  return { ok: true, by: "certificate", dn: id.dn };
}
