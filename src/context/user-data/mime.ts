// A MIME message as cloud-init and CernVM read user_data (RFC 2045/2046): an optional mbox `From `
// line (CernVM/GCE wrapper), headers, and for multipart/* the parts between `--boundary` lines,
// nested multiparts flattened in order. Preamble and epilogue are ignored. Malformed input gives
// Problems and whatever parts could still be read; it never throws.

import type { Problem } from "../../config/problem.ts";
import type { UserDataPart } from "../types.ts";
import { gunzip, isGzip, type InflateBudget } from "./gzip.ts";
import { isHeaderLine, parseHeaderValue, readHeaders, type HeaderValue } from "./mime-header.ts";
import { decodeText } from "./text.ts";
import { decodeBase64, decodeQuotedPrintable } from "./transfer-encoding.ts";
import { CappedProblems, userDataError, userDataWarning } from "./user-data-problem.ts";

export interface MimeResult {
  /** Leaf parts, numbered from 1 in the order they appear. */
  parts: UserDataPart[];
  /** Indexes of parts whose body could not be decoded (their body is ""). */
  unreadable: Set<number>;
  problems: Problem[];
}

// Deeper nesting or more parts have no use in user_data; the caps bound the work on hostile input.
const MAX_DEPTH = 10;
const MAX_PARTS = 1000;
const MAX_PROBLEMS = 100;
const MIME_HEADER = /^(content-type|mime-version)[ \t]*:/i;

const firstLine = (lines: readonly string[]): number => (lines[0]?.startsWith("From ") ? 1 : 0);

/** A header block naming Content-Type or MIME-Version at the top (after an optional `From ` line). */
export function isMimeMessage(lines: readonly string[]): boolean {
  const first = firstLine(lines);
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") return false;
    if (MIME_HEADER.test(line)) return true;
    const folded = i > first && (line[0] === " " || line[0] === "\t");
    if (!folded && !isHeaderLine(line)) return false;
  }
  return false;
}

interface Walk {
  lines: readonly string[];
  budget: InflateBudget;
  limit: number;
  parts: UserDataPart[];
  unreadable: Set<number>;
  problems: CappedProblems;
}

export function parseMime(lines: readonly string[], budget: InflateBudget, limit: number): MimeResult {
  const walk: Walk = { lines, budget, limit, parts: [], unreadable: new Set(), problems: new CappedProblems(MAX_PROBLEMS) };
  readEntity(walk, firstLine(lines), lines.length, 0);
  return { parts: walk.parts, unreadable: walk.unreadable, problems: walk.problems.list() };
}

function readEntity(w: Walk, start: number, end: number, depth: number): void {
  const { headers, bodyStart } = readHeaders(w.lines, start, end);
  const type = parseHeaderValue(headers.get("content-type") || "text/plain");
  if (type.value.startsWith("multipart/")) readMultipart(w, type, bodyStart, end, depth);
  else readLeaf(w, headers, type, bodyStart, end);
}

function readMultipart(w: Walk, type: HeaderValue, start: number, end: number, depth: number): void {
  const kind = type.value;
  if (depth >= MAX_DEPTH) {
    w.problems.add(userDataError("MIME", `${kind} nested more than ${MAX_DEPTH} levels deep: its parts are not read`));
    return;
  }
  let boundary = type.params.get("boundary") ?? "";
  if (!boundary) {
    const guess = guessBoundary(w.lines, start, end);
    w.problems.add(userDataError("MIME", `Content-Type ${kind} has no boundary parameter: expected ${kind}; boundary="..."` +
      (guess ? `; the parts were read as if boundary="${guess}", from the first line that starts with "--"` : "")));
    if (!guess) return;
    boundary = guess;
  }
  const dash = "--" + boundary;
  const delimiters: number[] = [];
  let close = -1;
  for (let i = start; i < end; i++) {
    const line = w.lines[i]!;
    if (!line.startsWith(dash)) continue;
    const rest = line.slice(dash.length);
    if (rest.startsWith("--")) {
      close = i;
      break;
    }
    if (rest.trim() === "") delimiters.push(i);
  }
  if (delimiters.length === 0) {
    w.problems.add(userDataError("MIME", `boundary "${boundary}" never starts a part: expected a line "${dash}" before each part of the ${kind} message`));
    return;
  }
  if (close < 0) {
    w.problems.add(userDataWarning("MIME", `no closing delimiter "${dash}--": the last part runs to the end of the ${depth ? "enclosing part" : "user_data"}`));
  }
  const stop = close < 0 ? end : close;
  if (w.parts.length + delimiters.length > MAX_PARTS) {
    w.problems.add(userDataError("MIME", `more than ${MAX_PARTS} parts: the parts after part ${MAX_PARTS} are not read`));
    delimiters.length = Math.max(0, MAX_PARTS - w.parts.length);
  }
  // The line break before a delimiter belongs to the delimiter (RFC 2046 5.1.1): a part is the
  // lines strictly between two delimiter lines, joined without a final line end.
  for (let k = 0; k < delimiters.length; k++) readEntity(w, delimiters[k]! + 1, delimiters[k + 1] ?? stop, depth + 1);
}

function guessBoundary(lines: readonly string[], start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith("--") && line.length > 2) return line.slice(2).replace(/--$/, "");
  }
  return "";
}

const PLAIN_ENCODINGS = new Set(["7bit", "8bit", "binary"]);

function readLeaf(w: Walk, headers: Map<string, string>, type: HeaderValue, start: number, end: number): void {
  const index = w.parts.length + 1;
  const part: UserDataPart = { index, contentType: type.value || "text/plain", body: "" };
  const disposition = headers.get("content-disposition");
  const filename = disposition ? parseHeaderValue(disposition).params.get("filename") : undefined;
  if (filename) part.filename = filename;
  w.parts.push(part);
  w.unreadable.add(index); // until the body is decoded

  const where = `part ${index}`;
  const raw = w.lines.slice(start, end).join("\n");
  const encoding = (headers.get("content-transfer-encoding") || "7bit").toLowerCase();
  let bytes: Uint8Array;
  if (encoding === "base64") {
    const decoded = decodeBase64(raw);
    if (!decoded.ok) {
      w.problems.add(userDataError(where, `Content-Transfer-Encoding base64, but the body is ${decoded.reason}`));
      return;
    }
    bytes = decoded.bytes;
  } else if (encoding === "quoted-printable") {
    const decoded = decodeQuotedPrintable(raw);
    if (!decoded.ok) return;
    bytes = decoded.bytes;
  } else {
    if (!PLAIN_ENCODINGS.has(encoding)) {
      w.problems.add(userDataWarning(where, `unknown Content-Transfer-Encoding "${encoding}": expected 7bit, 8bit, base64 or quoted-printable; the body is read as it is`));
    }
    // The whole user_data was already decoded as UTF-8 text.
    part.body = raw;
    w.unreadable.delete(index);
    return;
  }
  if (isGzip(bytes)) {
    const inflated = gunzip(bytes, w.budget, w.limit);
    if (!inflated.ok) {
      w.problems.add(userDataError(where, `the body is ${inflated.reason}`));
      return;
    }
    bytes = inflated.bytes;
  }
  const charset = type.params.get("charset") ?? "";
  const text = decodeText(bytes, charset);
  if (!text.ok) {
    w.problems.add(userDataWarning(where, `${bytes.length} bytes of binary data (${text.reason}): not read as text`));
    return;
  }
  if (text.unknownCharset) w.problems.add(userDataWarning(where, `unknown charset "${charset}": read as UTF-8`));
  part.body = text.text;
  w.unreadable.delete(index);
}
