// Dotted keys of the line format into the nested document: `payload.command.env.FOO = bar` ->
// {payload:{command:{env:{FOO:"bar"}}}}, `key[] = v` appends. A path cannot be both a value and a
// section, nor both a single value and an array; a value set twice keeps the later one.

import type { Problem } from "../../config/problem.ts";
import { userDataError, userDataWarning } from "./user-data-problem.ts";

export interface TreeEntry {
  path: string;
  append: boolean;
  value: string;
  location: string;
}

type Kind = { kind: "value" | "array"; location: string } | { kind: "section"; child: string; location: string };

export class DocumentTree {
  readonly document: Record<string, unknown> = {};
  private readonly kinds = new Map<string, Kind>();

  constructor(private readonly report: (p: Problem) => void) {}

  add(e: TreeEntry): void {
    const segments = e.path.split(".");
    // Refuse the whole entry before touching the document, so a conflict changes nothing.
    let prefix = "";
    for (const segment of segments.slice(0, -1)) {
      prefix = prefix ? `${prefix}.${segment}` : segment;
      const k = this.kinds.get(prefix);
      if (k && k.kind !== "section") {
        this.report(userDataError(e.location, `"${e.path}" cannot be set: "${prefix}" already has a value (${k.location})`));
        return;
      }
    }
    const previous = this.kinds.get(e.path);
    if (previous?.kind === "section") {
      this.report(userDataError(e.location, `"${e.path}" cannot have a value: it already holds "${previous.child}" (${previous.location})`));
      return;
    }
    if (previous && (previous.kind === "array") !== e.append) {
      const [first, second] = previous.kind === "array" ? [`${e.path}[] =`, `${e.path} =`] : [`${e.path} =`, `${e.path}[] =`];
      this.report(userDataError(e.location, `"${second}" after "${first}" (${previous.location}): use one form for "${e.path}"`));
      return;
    }
    if (previous?.kind === "value") {
      this.report(userDataWarning(e.location, `"${e.path}" is also set at ${previous.location}; the later value wins`));
    }

    let node = this.document;
    prefix = "";
    for (const segment of segments.slice(0, -1)) {
      prefix = prefix ? `${prefix}.${segment}` : segment;
      if (!this.kinds.has(prefix)) this.kinds.set(prefix, { kind: "section", child: e.path, location: e.location });
      if (!Object.hasOwn(node, segment)) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    const leaf = segments[segments.length - 1]!;
    if (e.append) {
      if (!previous) node[leaf] = [];
      (node[leaf] as string[]).push(e.value);
      if (!previous) this.kinds.set(e.path, { kind: "array", location: e.location });
    } else {
      node[leaf] = e.value;
      this.kinds.set(e.path, { kind: "value", location: e.location });
    }
  }
}
