// Secrets never leave the agent: configuration values at the schema's x-secret paths, and every
// secret value seen in the user_data, are replaced before anything is printed, logged or written.

import type { AgentConfig } from "../config/agent-config.ts";
import { SECRET_PATHS } from "../config/schema.ts";
import { redactUrlCredentials } from "../net/http-error.ts";

/** Every string in a configuration without URL credentials (the manager's per-VM token rides there). */
function withoutUrlCredentials(node: unknown): unknown {
  if (typeof node === "string") return redactUrlCredentials(node);
  if (Array.isArray(node)) return node.map(withoutUrlCredentials);
  if (node && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withoutUrlCredentials(v)]));
  return node;
}

export function redactedConfig(config: AgentConfig): Record<string, unknown> {
  const copy = withoutUrlCredentials(structuredClone(config)) as Record<string, unknown>;
  for (const path of SECRET_PATHS) {
    const keys = path.split(".");
    let node: unknown = copy;
    for (const key of keys.slice(0, -1)) node = node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
    const last = keys[keys.length - 1]!;
    if (node && typeof node === "object" && typeof (node as Record<string, unknown>)[last] === "string") {
      const value = (node as Record<string, string>)[last]!;
      (node as Record<string, unknown>)[last] = `<secret: ${Buffer.byteLength(value)} bytes, redacted>`;
    }
  }
  return copy;
}

/** Replace each known secret value (and each of its lines, for PEM blocks) in free text. */
export function redactValues(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    out = out.split(secret).join("<redacted>");
    for (const line of secret.split("\n")) {
      if (line.trim().length >= 16) out = out.split(line).join("<redacted>");
    }
  }
  return out;
}
