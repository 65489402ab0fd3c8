// The subset of JSON Schema (draft 2020-12) that schema/agent-config.v1.schema.json uses, plus two
// annotations of ours: `x-expected` (how a human names a pattern's meaning) and `x-split` (a
// line-format string that stands for an array), `x-secret` (redacted in every output).

export interface JsonSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
  title?: string;
  "x-expected"?: string;
  "x-split"?: string;
  "x-secret"?: boolean;
}

/** The schema node at a dotted path, following properties and additionalProperties. */
export function schemaAt(root: JsonSchema, path: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = root;
  for (const key of path.split(".")) {
    if (!node) return undefined;
    const next: JsonSchema | boolean | undefined = node.properties?.[key] ?? node.additionalProperties;
    node = typeof next === "object" ? next : undefined;
  }
  return node;
}

/** Every dotted path the schema marks `x-secret`. */
export function secretPaths(root: JsonSchema, prefix = ""): string[] {
  const out: string[] = [];
  for (const [key, node] of Object.entries(root.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (node["x-secret"]) out.push(path);
    out.push(...secretPaths(node, path));
  }
  return out;
}
