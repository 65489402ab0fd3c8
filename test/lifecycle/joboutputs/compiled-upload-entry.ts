// Entry point compiled with `bun build --compile` by compiled-upload.test.ts: uploads a spool and
// sends one heartbeat with a client credential from a proxy file, then prints the results as
// JSON. It proves the HTTPS client-certificate path works in a bun binary, not only under Node.
// Input from the environment: SPOOL, JOBOUTPUTS, PROXY_FILE, CA_DIR.

import { readFileSync } from "node:fs";
import { createHeartbeat } from "../../../src/lifecycle/heartbeat/heartbeat.ts";
import { splitProxyPem } from "../../../src/lifecycle/joboutputs/proxy-pem.ts";
import { uploadJobOutputs } from "../../../src/lifecycle/joboutputs/upload.ts";
import { closeHttpAgents } from "../../../src/net/http-client.ts";

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} not set`);
  return v;
};

const lines: string[] = [];
const log = { info: (m: string) => void lines.push(`info ${m}`), warn: (m: string) => void lines.push(`warn ${m}`), error: (m: string) => void lines.push(`error ${m}`) };

const cred = splitProxyPem(readFileSync(env("PROXY_FILE"), "utf8"));
if (!cred.ok) {
  process.stdout.write(JSON.stringify({ error: cred.message }) + "\n");
  process.exit(2);
}
const tls = { caDir: env("CA_DIR"), cert: cred.cert, key: cred.key };
const upload = await uploadJobOutputs({
  spoolDir: env("SPOOL"),
  joboutputs: env("JOBOUTPUTS"),
  last: ["shutdown_message"],
  tls,
  perRequestTimeoutMs: 3000,
  totalBudgetMs: 8000,
  retries: 1,
  backoffMs: 50,
  log,
});
const heartbeat = createHeartbeat({ spoolDir: env("SPOOL"), joboutputs: env("JOBOUTPUTS"), file: "heartbeat", periodSeconds: 300, tls, perRequestTimeoutMs: 3000, log });
await heartbeat.start();
await heartbeat.stop();
await closeHttpAgents();
process.stdout.write(JSON.stringify({ upload, heartbeat: heartbeat.stats(), log: lines }) + "\n");
