// parseUserData: raw user_data bytes -> format, decoded parts, the agent document and Problems.
// Pure and total: bad input (oversized, binary, malformed MIME, broken documents) becomes
// Problems with source "user_data", never an exception.

import type { Problem } from "../../config/problem.ts";
import type { UserDataFormat, UserDataPart, UserDataResult } from "../types.ts";
import { findAgentDocument, type TextPart } from "./agent-document.ts";
import { CONTENT_TYPE, detectTextFormat } from "./format.ts";
import { gunzip, isGzip, type InflateBudget } from "./gzip.ts";
import { isMimeMessage, parseMime } from "./mime.ts";
import { decodeText, splitLines } from "./text.ts";
import { scanPatterns } from "./unsubstituted-patterns.ts";
import { partLabel, userDataError } from "./user-data-problem.ts";

/** The most user_data the agent reads, raw or inflated. Cloud providers cap theirs well below this. */
export const USER_DATA_MAX_BYTES = 4 * 1024 * 1024;

const EXPECTED_TEXT = "expected text: a MIME multipart message, a shell script, #cloud-config or a vacuum-agent configuration";

function unreadable(size: number, problem: Problem): UserDataResult {
  // "binary": the bytes were not read as text, whatever they are.
  return { format: "binary", size, parts: [], documentLocation: null, document: null, vacuumValues: {}, entries: [], problems: [problem] };
}

export function parseUserData(bytes: Uint8Array): UserDataResult {
  const size = bytes.length;
  if (size > USER_DATA_MAX_BYTES) {
    return unreadable(size, userDataError("", `${size} bytes, more than the ${USER_DATA_MAX_BYTES}-byte limit`));
  }
  const budget: InflateBudget = { remaining: USER_DATA_MAX_BYTES };
  let data = bytes;
  if (isGzip(data)) {
    const inflated = gunzip(data, budget, USER_DATA_MAX_BYTES);
    if (!inflated.ok) return unreadable(size, userDataError("", `${size} bytes of ${inflated.reason}`));
    data = inflated.bytes;
  }
  const decoded = decodeText(data);
  if (!decoded.ok) {
    const what = data === bytes ? `${size} bytes` : `${size} bytes of gzip data inflating to ${data.length} bytes`;
    return unreadable(size, userDataError("", `${what} of binary data (${decoded.reason}): ${EXPECTED_TEXT}`));
  }
  const text = decoded.text;
  const lines = splitLines(text);

  const problems: Problem[] = [];
  let format: UserDataFormat;
  let parts: UserDataPart[];
  let texts: TextPart[];
  if (isMimeMessage(lines)) {
    format = "mime";
    const mime = parseMime(lines, budget, USER_DATA_MAX_BYTES);
    for (const p of mime.problems) problems.push(p);
    parts = mime.parts;
    texts = parts.map((part) => ({
      part,
      prefix: partLabel(part.index, part.contentType),
      lines: splitLines(part.body),
      unreadable: mime.unreadable.has(part.index),
    }));
  } else {
    format = detectTextFormat(text, lines);
    parts = format === "empty" ? [] : [{ index: 0, contentType: CONTENT_TYPE[format], body: text }];
    texts = parts.map((part) => ({ part, prefix: "", lines, unreadable: false }));
  }

  const found = findAgentDocument(texts, format);
  for (const p of found.problems) problems.push(p);
  for (const p of scanPatterns(texts, found.reported)) problems.push(p);
  return {
    format,
    size,
    parts,
    documentLocation: found.documentLocation,
    document: found.document,
    vacuumValues: found.vacuumValues,
    entries: found.entries,
    problems,
  };
}
