// EC2-style metadata (/latest/...), which also identifies Vac. IMDSv2 first (PUT a token); on any
// failure of the PUT (timeout, 403/404/405, Vac's 501) fall back to IMDSv1. A Vac VM is told apart
// by its own /latest/meta-data.json whose meta.machinefeatures points at the factory
// (169.254.169.253); anything else must answer /latest/meta-data/instance-id to count as EC2.

import { isHtml, jsonObject, statusText, type Probe } from "./probe.ts";
import { dropUndefined, openstackValues } from "./openstack-meta.ts";
import type { Provider, ProviderOutcome } from "./provider.ts";

const TOKEN_TTL_SECONDS = "21600";
const VAC_FACTORY = "http://169.254.169.253/";
const PLAIN_VALUE = /^[\x21-\x7e]{1,1024}$/;

export function ec2Provider(baseUrl: string): Provider {
  return {
    name: "ec2",
    async probe(probe: Probe): Promise<ProviderOutcome> {
      const token = await imdsToken(probe, baseUrl);
      if (typeof token === "object" && token !== null) return { reason: token.unreachable };
      const headers: Record<string, string> = token ? { "X-aws-ec2-metadata-token": token } : {};
      const get = (path: string) => probe.request("ec2", `${baseUrl}${path}`, { headers });

      const ud = await get("/latest/user-data");
      if ("error" in ud) return { reason: `user-data: ${ud.error}` };
      if (ud.res.status === 401) {
        return { reason: "user-data answered 401 Unauthorized: the service requires an IMDSv2 token and issued none" };
      }
      if (ud.res.status !== 200 && ud.res.status !== 404) return { reason: `user-data answered ${statusText(ud.res.status)}` };
      const userData = ud.res.status === 200 ? ud.res.body : null;

      const vacDoc = await get("/latest/meta-data.json");
      if ("res" in vacDoc && vacDoc.res.status === 200) {
        const doc = jsonObject(vacDoc.res);
        const meta = "value" in doc ? (doc.value.meta as Record<string, unknown> | undefined) : undefined;
        if ("value" in doc && typeof meta?.machinefeatures === "string" && meta.machinefeatures.startsWith(VAC_FACTORY)) {
          vacDoc.attempt.outcome += ": Vac";
          return { found: { provider: "vac", origin: baseUrl, userData, values: openstackValues(doc.value), problems: [] } };
        }
      }

      const id = await get("/latest/meta-data/instance-id");
      if ("error" in id) return { reason: `instance-id: ${id.error}` };
      const instanceId = plainValue(id.res.status, id.res);
      if (instanceId === undefined) {
        const why = id.res.status === 200 ? "answered something that is not an instance id" : `answered ${statusText(id.res.status)}`;
        return { reason: `not an EC2 metadata service: instance-id ${why}` };
      }
      const host = await get("/latest/meta-data/hostname");
      const hostname = "res" in host ? plainValue(host.res.status, host.res) : undefined;
      return {
        found: { provider: "ec2", origin: baseUrl, userData, values: dropUndefined({ uuid: instanceId, hostname }), problems: [] },
      };
    },
  };
}

/** The IMDSv2 token, null to use IMDSv1, or why nothing accepted the connection. */
async function imdsToken(probe: Probe, baseUrl: string): Promise<string | null | { unreachable: string }> {
  const put = await probe.request("ec2", `${baseUrl}/latest/api/token`, {
    method: "PUT",
    headers: { "X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_SECONDS },
  });
  if ("error" in put) {
    if (put.connectFailed) return { unreachable: put.error };
    if (put.attempt) put.attempt.outcome += "; falling back to IMDSv1";
    return null;
  }
  const token = plainValue(put.res.status, put.res);
  if (token === undefined) put.attempt.outcome += "; falling back to IMDSv1";
  return token ?? null;
}

/** A one-token text answer (token, instance id, hostname), or undefined. */
function plainValue(status: number, res: Parameters<typeof isHtml>[0]): string | undefined {
  if (status !== 200 || isHtml(res)) return undefined;
  const value = res.text().trim();
  return PLAIN_VALUE.test(value) ? value : undefined;
}
