// The user_data as text: bytes to a string (refusing binary data instead of guessing) and lines.

export type DecodedText =
  | { ok: true; text: string; /** the charset label was unknown: read as UTF-8 instead */ unknownCharset?: boolean }
  | { ok: false; reason: string };

// MIME parts labelled us-ascii are in practice UTF-8 written by tools that never looked; the
// WHATWG decoder would read the label as windows-1252 and garble them.
const UTF8_LABELS = new Set(["", "utf-8", "utf8", "us-ascii", "ascii"]);

function utf8(bytes: Uint8Array): DecodedText {
  if (bytes.indexOf(0) !== -1) return { ok: false, reason: "contains NUL bytes" };
  try {
    // fatal: invalid UTF-8 is binary data, not text with replacement characters; a BOM is dropped.
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, reason: "not valid UTF-8" };
  }
}

export function decodeText(bytes: Uint8Array, charset = ""): DecodedText {
  const label = charset.trim().toLowerCase();
  if (UTF8_LABELS.has(label)) return utf8(bytes);
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label as ConstructorParameters<typeof TextDecoder>[0], { fatal: true });
  } catch {
    const read = utf8(bytes);
    return read.ok ? { ...read, unknownCharset: true } : read;
  }
  try {
    return { ok: true, text: decoder.decode(bytes) };
  } catch {
    return { ok: false, reason: `not valid ${label}` };
  }
}

/** Lines of a text, whatever its line ends (LF or CRLF). */
export const splitLines = (text: string): string[] => text.split(/\r?\n/);
