// The JSON Schema of the configuration, embedded in the binary (bun inlines JSON imports).
import schemaJson from "../../schema/agent-config.v1.schema.json" with { type: "json" };
import { secretPaths, type JsonSchema } from "./json-schema.ts";

export const AGENT_CONFIG_SCHEMA = schemaJson as JsonSchema;

/** Dotted paths whose values are secrets: redacted in the dry run, logs, status and job outputs. */
export const SECRET_PATHS: readonly string[] = secretPaths(AGENT_CONFIG_SCHEMA);
