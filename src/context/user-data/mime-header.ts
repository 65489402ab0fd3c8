// MIME header blocks (RFC 2045/5322): `Name: value` lines, folded continuation lines, and
// structured values such as `multipart/mixed; boundary="=====123=="`.

// A field name is printable ASCII except ":" and space; no space before the colon in practice,
// but CernVM templates written by hand sometimes have one.
const HEADER = /^([!-9;-~]+)[ \t]*:(.*)$/;

export interface HeaderBlock {
  /** Lower-cased names; the first occurrence of a name wins. */
  headers: Map<string, string>;
  /** Index of the first body line. */
  bodyStart: number;
}

export const isHeaderLine = (line: string): boolean => HEADER.test(line);

/**
 * Headers from lines[start] up to the blank line that ends them (consumed). A part whose first
 * line is neither a header nor blank has no headers: its body starts there.
 */
export function readHeaders(lines: readonly string[], start: number, end: number): HeaderBlock {
  const headers = new Map<string, string>();
  let name = "";
  let value = "";
  const keep = (): void => {
    if (name && !headers.has(name)) headers.set(name, value.trim());
    name = "";
  };
  let i = start;
  for (; i < end; i++) {
    const line = lines[i]!;
    if (line.trim() === "") {
      i++;
      break;
    }
    if ((line[0] === " " || line[0] === "\t") && name) {
      value += " " + line.trim();
      continue;
    }
    const m = HEADER.exec(line);
    if (!m) break;
    keep();
    name = m[1]!.toLowerCase();
    value = m[2]!;
  }
  keep();
  return { headers, bodyStart: i };
}

export interface HeaderValue {
  /** Lower-cased main value: `multipart/mixed`, `base64`, `attachment`. */
  value: string;
  /** Lower-cased parameter names; values unquoted, case kept. */
  params: Map<string, string>;
}

/** `type/subtype; name=value; name="quoted \"value\""`: `;` inside quotes does not split. */
export function parseHeaderValue(raw: string): HeaderValue {
  const pieces: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quoted && c === "\\" && i + 1 < raw.length) {
      current += c + raw[++i];
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === ";" && !quoted) {
      pieces.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  pieces.push(current);
  const params = new Map<string, string>();
  for (const piece of pieces.slice(1)) {
    const eq = piece.indexOf("=");
    if (eq < 0) continue;
    const name = piece.slice(0, eq).trim().toLowerCase();
    let value = piece.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    if (name && !params.has(name)) params.set(name, value);
  }
  return { value: pieces[0]!.trim().toLowerCase(), params };
}
