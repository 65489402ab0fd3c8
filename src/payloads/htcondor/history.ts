// A reader for HTCondor's ClassAd "long" format as the startd history (STARTD_HISTORY) and
// `condor_history -l` write it: one `Name = value` per line; ads separated by a banner line
// `*** Offset = ... ClusterId = ...` (after each ad in a history file) or by blank lines.
// Values are parsed as ClassAd literals: strings (with escapes), integers, reals, booleans,
// undefined/error, lists `{ ... }` and nested ads `[ a = 1; b = "x" ]`; anything else (an expression
// such as `((ResidentSetSize + 1023) / 1024)`) is kept as its text. Attribute names are
// case-insensitive, as in ClassAds. Bad input never throws: unreadable lines are counted.

export type ClassAdValue = string | number | boolean | null | { expr: string } | ClassAdValue[] | ClassAd;

export class ClassAd {
  private readonly attrs = new Map<string, ClassAdValue>();
  set(name: string, value: ClassAdValue): void {
    this.attrs.set(name.toLowerCase(), value);
  }
  get(name: string): ClassAdValue | undefined {
    return this.attrs.get(name.toLowerCase());
  }
  number(name: string): number | undefined {
    const v = this.get(name);
    return typeof v === "number" ? v : undefined;
  }
  string(name: string): string | undefined {
    const v = this.get(name);
    return typeof v === "string" ? v : undefined;
  }
  get size(): number {
    return this.attrs.size;
  }
}

export interface History {
  ads: ClassAd[];
  /** Lines that were neither `Name = value`, a banner nor blank. */
  unreadableLines: number;
}

/** A cursor over one value's text. */
class Scanner {
  i = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }
  peek(): string {
    return this.s[this.i] ?? "";
  }
  done(): boolean {
    this.ws();
    return this.i >= this.s.length;
  }
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", "\\": "\\", '"': '"', "'": "'" };

function parseString(sc: Scanner): string | undefined {
  sc.i++; // opening quote
  let out = "";
  while (sc.i < sc.s.length) {
    const c = sc.s[sc.i++]!;
    if (c === '"') return out;
    if (c === "\\" && sc.i < sc.s.length) {
      const e = sc.s[sc.i++]!;
      out += ESCAPES[e] ?? e;
    } else out += c;
  }
  return undefined; // unterminated
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.]*/;
const NUMBER = /^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)/;

/** One literal at the cursor, or undefined when what follows is not a literal (an expression). */
function parseLiteral(sc: Scanner): ClassAdValue | undefined {
  sc.ws();
  const c = sc.peek();
  if (c === '"') return parseString(sc);
  if (c === "{") {
    sc.i++;
    const list: ClassAdValue[] = [];
    for (;;) {
      sc.ws();
      if (sc.peek() === "}") return sc.i++, list;
      const v = parseLiteral(sc);
      if (v === undefined) return undefined;
      list.push(v);
      sc.ws();
      if (sc.peek() === ",") sc.i++;
      else if (sc.peek() !== "}") return undefined;
    }
  }
  if (c === "[") {
    sc.i++;
    const ad = new ClassAd();
    for (;;) {
      sc.ws();
      if (sc.peek() === "]") return sc.i++, ad;
      const name = NAME.exec(sc.s.slice(sc.i));
      if (!name) return undefined;
      sc.i += name[0].length;
      sc.ws();
      if (sc.peek() !== "=") return undefined;
      sc.i++;
      const v = parseLiteral(sc);
      if (v === undefined) return undefined;
      ad.set(name[0], v);
      sc.ws();
      if (sc.peek() === ";") sc.i++;
      else if (sc.peek() !== "]") return undefined;
    }
  }
  const rest = sc.s.slice(sc.i);
  const num = NUMBER.exec(rest);
  if (num) {
    sc.i += num[0].length;
    return Number(num[0]);
  }
  const word = NAME.exec(rest);
  if (word) {
    const w = word[0].toLowerCase();
    if (w === "true" || w === "false" || w === "undefined" || w === "error") {
      sc.i += word[0].length;
      return w === "true" ? true : w === "false" ? false : null;
    }
  }
  return undefined;
}

/** A whole attribute value: a literal when it is one and nothing follows, else the expression text. */
export function parseValue(text: string): ClassAdValue {
  const sc = new Scanner(text);
  const v = parseLiteral(sc);
  return v !== undefined && sc.done() ? v : { expr: text.trim() };
}

const ATTRIBUTE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s?(.*)$/;

export function parseHistory(text: string): History {
  const ads: ClassAd[] = [];
  let current = new ClassAd();
  let unreadableLines = 0;
  const close = () => {
    if (current.size > 0) ads.push(current);
    current = new ClassAd();
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("***") || line.trim() === "") {
      close();
      continue;
    }
    const m = ATTRIBUTE.exec(line);
    if (!m) {
      unreadableLines++;
      continue;
    }
    current.set(m[1]!, parseValue(m[2]!));
  }
  close();
  return { ads, unreadableLines };
}

/** HTCondor's JobStatus values (condor_utils/proc.h). */
export const JOB_STATUS = { idle: 1, running: 2, removed: 3, completed: 4, held: 5, transferringOutput: 6, suspended: 7 } as const;
