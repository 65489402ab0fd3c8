import type { Context } from "../context/context.ts";
import { redactedConfig } from "../context/redact.ts";
import { AGENT_PATHS } from "../status/paths.ts";
import type { Stage } from "./stage.ts";

/** What the agent read and decided, secrets redacted: for `agent status`, support and job outputs. */
export function contextRecord(ctx: Context): Record<string, unknown> {
  return {
    startedAt: new Date(ctx.startedAt * 1000).toISOString(),
    userData: ctx.userData && { origin: ctx.userData.origin, format: ctx.userData.format, size: ctx.userData.size, document: ctx.userData.documentLocation },
    metadata: ctx.metadata && { provider: ctx.metadata.provider, origin: ctx.metadata.origin },
    deadline: {
      ...ctx.deadline,
      deadlineIso: ctx.deadline.deadline === null ? null : new Date(ctx.deadline.deadline * 1000).toISOString(),
    },
    // One line per block device: the full probe is in the dry run's JSON, not in every VM's outputs.
    machine: {
      ...ctx.machine,
      // Where the runtime was looked for is in the dry run; the isolation stage's plan names the one used.
      isolation: undefined,
      blockDevices: ctx.machine.blockDevices
        ?.filter((d) => (d.sizeBytes ?? 0) > 0)
        .map((d) => `${d.path} ${d.sizeBytes} B${d.signature ? ` ${JSON.stringify(d.signature)}` : ""}${d.mountPoints.length ? ` mounted on ${d.mountPoints.join(",")}` : ""}${d.unreadable ? ` (${d.unreadable})` : ""}`),
    },
    config: redactedConfig(ctx.config),
    // Where each value came from, one line per key; defaults are left out (the schema has them).
    provenance: Object.fromEntries(
      Object.entries(ctx.provenance)
        .filter(([, o]) => o.source !== "default")
        .map(([path, o]) => [path, o.location ? `${o.source}: ${o.location}` : o.source]),
    ),
    mjf: ctx.mjf && { machinefeatures: ctx.mjf.machinefeatures.values, jobfeatures: ctx.mjf.jobfeatures.values },
  };
}

export const contextRecordStage: Stage = {
  id: "context-record",
  title: "record the context",
  skip: () => null,
  plan: (ctx) => [
    {
      kind: "write-file",
      path: AGENT_PATHS.context,
      mode: 0o644,
      contents: JSON.stringify(contextRecord(ctx), null, 2) + "\n",
      why: "what the agent read and decided (secrets redacted)",
    },
  ],
  failure: { code: 500, fatal: false, text: "Cannot record the context" },
};
