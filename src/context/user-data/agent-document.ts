// Finds the agent's own configuration document inside the user_data and reads it:
//   1. in a MIME message, a part with Content-Type text/x-vacuum-agent (the whole body);
//   2. in any other text, the lines between -----BEGIN VACUUM-AGENT CONFIG----- and
//      -----END VACUUM-AGENT CONFIG----- (in shell scripts inside a no-op heredoc);
//   3. a whole non-MIME user_data that is a JSON object.
// A body whose first non-space character is "{" is JSON, anything else the line format.

import type { Problem } from "../../config/problem.ts";
import type { DocumentEntry, UserDataFormat, UserDataPart } from "../types.ts";
import { DocumentOutput } from "./document-output.ts";
import { DocumentTree } from "./document-tree.ts";
import { readJsonDocument } from "./json-document.ts";
import { parseLineDocument } from "./line-document.ts";
import { BEGIN_MARKER, END_MARKER, findMarkerBlocks, startsWithMarkerBlock } from "./marker-block.ts";
import { lineLocation, linesLocation, userDataError } from "./user-data-problem.ts";
import { checkVacuumName, isVacuumKey } from "./vacuum-values.ts";

export const AGENT_CONTENT_TYPE = "text/x-vacuum-agent";

export const NO_DOCUMENT_MESSAGE =
  `no vacuum-agent configuration found: expected a ${AGENT_CONTENT_TYPE} MIME part or a ${BEGIN_MARKER} block`;

/** A decoded part with its lines, split once for every reader. */
export interface TextPart {
  part: UserDataPart;
  /** `part 2 (text/x-vacuum-agent)`, or "" outside MIME. */
  prefix: string;
  lines: readonly string[];
  /** The body could not be decoded (already reported): it is "" and holds no document. */
  unreadable: boolean;
}

export interface AgentDocument {
  documentLocation: string | null;
  document: Record<string, unknown> | null;
  vacuumValues: Record<string, string>;
  entries: DocumentEntry[];
  problems: Problem[];
  /** Pattern reports already made at entry locations (see unsubstituted-patterns.ts). */
  reported: ReadonlySet<string>;
}

interface Candidate {
  location: string;
  lines: readonly string[];
  /** Body lines [from, to). */
  from: number;
  to: number;
  prefix: string;
  unterminated: boolean;
  unreadable: boolean;
}

function blocks(t: TextPart): Candidate[] {
  return findMarkerBlocks(t.lines).map(({ begin, end }) => ({
    location: end === null ? lineLocation(t.prefix, begin + 1) : linesLocation(t.prefix, begin + 1, end + 1),
    lines: t.lines,
    from: begin + 1,
    to: end ?? t.lines.length,
    prefix: t.prefix,
    unterminated: end === null,
    unreadable: false,
  }));
}

const whole = (t: TextPart, location: string): Candidate =>
  ({ location, lines: t.lines, from: 0, to: t.lines.length, prefix: t.prefix, unterminated: false, unreadable: t.unreadable });

function candidates(texts: readonly TextPart[], format: UserDataFormat): Candidate[] {
  if (format === "json") return texts.slice(0, 1).map((t) => whole(t, "whole user_data"));
  if (format !== "mime") return texts.slice(0, 1).flatMap(blocks);
  // Decoded MIME parts are all text (binary parts have an empty body), so every one is searched.
  // An agent part may still wrap its body in the markers, as it would be written elsewhere.
  return texts.flatMap((t) =>
    t.part.contentType === AGENT_CONTENT_TYPE && !startsWithMarkerBlock(t.lines) ? [whole(t, t.prefix)] : blocks(t));
}

function isJsonBody(c: Candidate): boolean {
  for (let i = c.from; i < c.to; i++) {
    const text = c.lines[i]!.trimStart();
    if (text !== "") return text.startsWith("{");
  }
  return false;
}

function readLineDocument(c: Candidate, out: DocumentOutput): Record<string, unknown> {
  const entries = parseLineDocument(c.lines, c.from, c.to, c.prefix, out.report);
  const tree = new DocumentTree(out.report);
  for (const e of entries) {
    const set = out.entry(e.key, e.value, e.location);
    if (!isVacuumKey(e.path)) {
      if (set) tree.add(e);
      continue;
    }
    if (e.append || e.path.includes(".")) {
      out.report(userDataError(e.location, `"${e.key}": a ##user_data_*## value is one string: expected "user_data_<name> = value" without dots or []`));
      continue;
    }
    const known = checkVacuumName(e.path, e.location, out.report);
    if (known?.multiLine && !e.heredoc && set) {
      out.report(userDataError(e.location,
        `##${e.path}## is inserted as several lines: write "${e.path} <<EOF", then the pattern on a line of its own, then "EOF"`));
      continue;
    }
    if (set) out.vacuum.set(e.path, e.value, e.location);
  }
  return tree.document;
}

export function findAgentDocument(texts: readonly TextPart[], format: UserDataFormat): AgentDocument {
  const out = new DocumentOutput();
  const found = candidates(texts, format);
  const first = found[0];
  let document: Record<string, unknown> | null = null;
  if (!first) {
    out.report(userDataError("", NO_DOCUMENT_MESSAGE));
  } else if (first.unreadable) {
    // Found, but its body was lost in decoding: that problem is already reported.
  } else if (first.unterminated) {
    out.report(userDataError(first.location, `${BEGIN_MARKER} without a matching ${END_MARKER} line`));
  } else if (isJsonBody(first)) {
    document = readJsonDocument(first.lines, first.from, first.to, first.prefix, first.location, out);
  } else {
    document = readLineDocument(first, out);
  }
  for (const extra of found.slice(1)) {
    out.report(userDataError(extra.location, `another vacuum-agent configuration; the first is at ${first!.location}: expected exactly one`));
  }
  return {
    documentLocation: first?.location ?? null,
    document,
    vacuumValues: out.vacuum.values,
    entries: out.entries,
    problems: out.problems.list(),
    reported: out.reported,
  };
}
