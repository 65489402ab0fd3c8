// How the startd authenticates to the pool, from what the user_data carries. Current HTCondor has no
// GSI; VMCondor's GSI with the host certificate or the X.509 proxy becomes SSL with the same files.
//
//   IDTOKENS  an IDTOKEN from the user_data (payload.htcondor.idtoken) in the token directory, or
//             tokens the startd signs itself with the pool's POOL key (the password file)
//   PASSWORD  the pool password file (payload.htcondor.pool_password_base64), as older pools use
//   SSL       client certificate = the host certificate and key, or the X.509 proxy (cert + key +
//             chain in one file); the collector's certificate is checked against credentials.ca_dir
//   FS        always first: the startd must authenticate to its own starter (services.md pitfall 4)

import type { Context } from "../../context/context.ts";
import { CREDENTIAL_PATHS } from "../../credentials/paths.ts";
import { htcondorSettings } from "./settings.ts";

export interface SslClient {
  certFile: string;
  keyFile: string;
  caDir: string;
  from: "hostcert" | "x509_proxy";
}

export interface HtcondorAuth {
  methods: string[];
  token: boolean;
  password: boolean;
  ssl: SslClient | null;
}

/** Where the X.509 proxy is when the credentials stage installs (or mints) one. */
function proxyInstalled(ctx: Context): boolean {
  const c = ctx.config.credentials;
  return c.x509_proxy !== undefined || (c.mint_proxy && c.hostcert !== undefined && c.hostkey !== undefined);
}

export function sslClient(ctx: Context): SslClient | null {
  const want = htcondorSettings(ctx).ssl;
  const c = ctx.config.credentials;
  const host = c.hostcert !== undefined && c.hostkey !== undefined;
  const proxy = proxyInstalled(ctx);
  const pick = want === "auto" ? (host ? "hostcert" : proxy ? "x509_proxy" : null) : want === "off" ? null : want;
  if (pick === "hostcert" && host) return { certFile: CREDENTIAL_PATHS.hostcert, keyFile: CREDENTIAL_PATHS.hostkey, caDir: c.ca_dir, from: "hostcert" };
  if (pick === "x509_proxy" && proxy) return { certFile: CREDENTIAL_PATHS.x509proxy, keyFile: CREDENTIAL_PATHS.x509proxy, caDir: c.ca_dir, from: "x509_proxy" };
  return null;
}

export function htcondorAuth(ctx: Context): HtcondorAuth {
  const s = htcondorSettings(ctx);
  const token = s.idtoken !== undefined && s.idtoken.trim() !== "";
  const password = s.pool_password_base64 !== undefined && s.pool_password_base64.trim() !== "";
  const ssl = sslClient(ctx);
  const methods = ["FS"];
  if (token || password) methods.push("IDTOKENS");
  if (password) methods.push("PASSWORD");
  if (ssl) methods.push("SSL");
  return { methods, token, password, ssl };
}
