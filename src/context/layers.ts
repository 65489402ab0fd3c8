// Configuration layers and their precedence. Each source contributes flat dotted-path values; the
// merge keeps, for every path, the value of the highest layer and where it came from (provenance),
// so the dry run can say "identity.space = vac01 (user_data, part 4 line 3)" and a problem can name
// the source a site admin has to fix.
//
// Precedence, highest first (README "Where settings come from"):
//   1. command line (--set KEY=VALUE)
//   2. environment ($MACHINEFEATURES, $JOBFEATURES, $JOBOUTPUTS)
//   3. the agent document in the user_data: explicit dotted keys
//   4. the agent document in the user_data: ##user_data_*## values, mapped to their keys
//   5. the metadata service (meta.machinetype, meta.machinefeatures, ... ; Vac's MJF defaults)
//   6. built-in defaults (from the schema)
// Empty values never reach a layer: Vac and Vcycle delete patterns they cannot fill, so empty
// means "not set" and a lower layer's value is used.

import type { Source } from "../config/problem.ts";

export interface Origin {
  source: Source;
  /** Where inside the source, e.g. `part 4 (text/x-vacuum-agent) line 3` or `$JOBFEATURES`. */
  location?: string;
}

export interface Layer {
  origin: Origin;
  /** Flat dotted paths to values; per-path locations override the layer's. */
  values: Record<string, unknown>;
  locations?: Record<string, string>;
}

export interface Merged {
  object: Record<string, unknown>;
  provenance: Record<string, Origin>;
}

/** Flatten a nested document into dotted paths; arrays and non-plain values are leaves. */
export function flatten(obj: Record<string, unknown>, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
      flatten(value as Record<string, unknown>, path, out);
    } else {
      out[path] = value;
    }
  }
  return out;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = obj;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== "object" || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Layers are given lowest precedence first. */
export function mergeLayers(layers: readonly Layer[]): Merged {
  const flat: Record<string, unknown> = {};
  const provenance: Record<string, Origin> = {};
  for (const layer of layers) {
    for (const [path, value] of Object.entries(layer.values)) {
      if (value === undefined || value === "") continue;
      // A higher layer replaces a whole subtree or a leaf: drop lower entries below or above it.
      for (const existing of Object.keys(flat)) {
        if (existing.startsWith(path + ".") || path.startsWith(existing + ".")) {
          delete flat[existing];
          delete provenance[existing];
        }
      }
      flat[path] = value;
      const location = layer.locations?.[path] ?? layer.origin.location;
      provenance[path] = location ? { source: layer.origin.source, location } : { source: layer.origin.source };
    }
  }
  const object: Record<string, unknown> = {};
  for (const path of Object.keys(flat).sort()) setPath(object, path, flat[path]);
  return { object, provenance };
}

/** The origin of a path, or of the nearest ancestor or descendant that has one. */
export function originOf(provenance: Record<string, Origin>, path: string): Origin | undefined {
  const clean = path.replace(/\[\d+\]/g, "");
  if (provenance[clean]) return provenance[clean];
  let best: string | undefined;
  for (const p of Object.keys(provenance)) {
    if ((clean.startsWith(p + ".") || p.startsWith(clean + ".")) && (!best || p.length > best.length)) best = p;
  }
  return best ? provenance[best] : undefined;
}
