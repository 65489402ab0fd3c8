// MIME Content-Transfer-Encoding (RFC 2045 section 6): base64 and quoted-printable back to bytes.

export type Decoded = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

const BASE64_CHAR = /^[A-Za-z0-9+/]*$/;

/** Strict base64: Buffer's decoder silently skips garbage, which would hide a corrupted part. */
export function decodeBase64(body: string): Decoded {
  const lines = body.split(/\r?\n/);
  let joined = "";
  let padded = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/[ \t]+/g, "");
    if (line === "") continue;
    const data = line.replace(/=+$/, "");
    const padding = line.length - data.length;
    if (padded || padding > 2 || !BASE64_CHAR.test(data)) {
      return { ok: false, reason: `not valid base64: unexpected character on line ${i + 1} of the part body` };
    }
    if (padding > 0) padded = true;
    joined += line;
  }
  const data = joined.replace(/=+$/, "");
  if (data.length % 4 === 1) return { ok: false, reason: "not valid base64: the data is cut short (its length is not a multiple of 4)" };
  return { ok: true, bytes: new Uint8Array(Buffer.from(data, "base64")) };
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** `=XX` escapes and `=` soft line breaks; other characters are taken as UTF-8. */
export function decodeQuotedPrintable(body: string): Decoded {
  const out: number[] = [];
  const text = body.replace(/\r\n/g, "\n");
  let literal = "";
  const flush = (): void => {
    if (literal) for (const b of Buffer.from(literal, "utf8")) out.push(b);
    literal = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "=") {
      literal += c;
      continue;
    }
    // Trailing whitespace before a soft line break is transport padding (RFC 2045 rule 3).
    const rest = /^[ \t]*\n/.exec(text.slice(i + 1, i + 80));
    if (rest) {
      i += rest[0].length;
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (HEX.test(hex)) {
      flush();
      out.push(parseInt(hex, 16));
      i += 2;
      continue;
    }
    literal += c; // a lone "=" is kept, as decoders commonly do
  }
  flush();
  return { ok: true, bytes: new Uint8Array(out) };
}
