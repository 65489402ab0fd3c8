// PEM text as it arrives in user_data: one or more `-----BEGIN X-----` … `-----END X-----` blocks,
// possibly with stray text around them (Vac and Vcycle paste files verbatim). Readers here find
// the blocks and say what was expected and what was found, naming only labels and counts, never
// any of the text between the lines (it may be a key).

export interface PemBlock {
  /** "CERTIFICATE", "PRIVATE KEY", "RSA PRIVATE KEY", ... */
  label: string;
  /** The whole block, BEGIN and END lines included, ending with a newline. */
  text: string;
  /** The block's headers (RFC 1421 `Proc-Type: 4,ENCRYPTED`), when it has any. */
  encrypted: boolean;
}

export type PemRead = { ok: true; blocks: PemBlock[] } | { ok: false; message: string };

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----\s*$/;
const END = /^-----END ([A-Z0-9 ]+)-----\s*$/;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;
const HEADER_LINE = /^[A-Za-z-]+:/;

export const CERTIFICATE = "CERTIFICATE";
/** Unencrypted private keys: PKCS#8, and the traditional PKCS#1 (RSA) and SEC1 (EC) forms. */
export const PRIVATE_KEY_LABELS: ReadonlySet<string> = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);

/** Every PEM block in `text`; a BEGIN without its END or a body that is not base64 is a problem. */
export function readPem(text: string, expected: string): PemRead {
  const lines = text.split(/\r?\n/);
  const blocks: PemBlock[] = [];
  let open: { label: string; start: number; headers: string[]; body: string[] } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (open === null) {
      const m = BEGIN.exec(line);
      if (m) open = { label: m[1]!, start: i, headers: [], body: [] };
      continue;
    }
    const end = END.exec(line);
    if (end) {
      if (end[1] !== open.label) {
        return { ok: false, message: `expected ${expected}, found "-----BEGIN ${open.label}-----" closed by "-----END ${end[1]}-----"` };
      }
      const b64 = open.body.join("");
      if (b64.length === 0 || !BASE64_LINE.test(b64) || b64.length % 4 !== 0) {
        return { ok: false, message: `expected ${expected}, found a ${open.label} block whose body is not base64` };
      }
      const headerText = open.headers.join("\n");
      blocks.push({
        label: open.label,
        text: [`-----BEGIN ${open.label}-----`, ...open.headers, ...(open.headers.length ? [""] : []), ...open.body, `-----END ${open.label}-----`, ""].join("\n"),
        encrypted: /Proc-Type:\s*4,\s*ENCRYPTED/i.test(headerText),
      });
      open = null;
      continue;
    }
    if (BEGIN.test(line)) return { ok: false, message: `expected ${expected}, found "-----BEGIN ${open.label}-----" with no END line before the next BEGIN line` };
    if (line === "") continue;
    if (open.body.length === 0 && HEADER_LINE.test(line)) open.headers.push(line);
    else if (BASE64_LINE.test(line)) open.body.push(line);
    else return { ok: false, message: `expected ${expected}, found a ${open.label} block with a line that is not base64 (line ${i - open.start + 1} of the block)` };
  }
  if (open !== null) return { ok: false, message: `expected ${expected}, found "-----BEGIN ${open.label}-----" with no END line` };
  if (blocks.length === 0) return { ok: false, message: `expected ${expected}, found no BEGIN line` };
  return { ok: true, blocks };
}

/** "2 CERTIFICATE blocks and 1 RSA PRIVATE KEY block": what a file holds, for messages. */
export function describeBlocks(blocks: readonly PemBlock[]): string {
  const counts = new Map<string, number>();
  for (const b of blocks) counts.set(b.label, (counts.get(b.label) ?? 0) + 1);
  const parts = [...counts].map(([label, n]) => `${n} ${label} block${n === 1 ? "" : "s"}`);
  return parts.length <= 1 ? (parts[0] ?? "nothing") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}
