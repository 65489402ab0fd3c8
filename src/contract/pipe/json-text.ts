// A JSON reader that keeps what Python's `json` module would see and JavaScript's JSON.parse hides:
// the spelling of each number (`600.0` is a Python float, `600` an int: JSON.parse makes both 600),
// every duplicate key (Python keeps the last), NaN/Infinity (Python accepts them), and where each
// value starts. Vac and Vcycle read pipes with Python 2's json.loads, so this reader accepts and
// rejects exactly what it does: a byte-order mark, trailing commas and control characters in strings
// are errors. Never throws.

export interface Position {
  line: number;
  column: number;
}

export interface JsonEntry {
  key: string;
  keyAt: Position;
  value: JsonNode;
}

export type JsonNode =
  | { kind: "object"; entries: JsonEntry[]; at: Position }
  | { kind: "array"; items: JsonNode[]; at: Position }
  | { kind: "string"; value: string; at: Position }
  /** `text` is the literal as written; `float` is true when Python makes it a float (`.`, `e`, NaN, Infinity). */
  | { kind: "number"; text: string; float: boolean; value: number; at: Position }
  | { kind: "boolean"; value: boolean; at: Position }
  | { kind: "null"; at: Position };

export type JsonParse = { ok: true; root: JsonNode } | { ok: false; message: string; at: Position };

/** Python's recursion limit ends deeper documents with an exception; we stop earlier. */
const MAX_DEPTH = 256;
const WS = new Set([" ", "\t", "\n", "\r"]);
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

class JsonError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export function parseJsonText(text: string): JsonParse {
  const reader = new Reader(text);
  try {
    reader.skipWs();
    if (reader.i >= text.length) throw new JsonError("empty document: expected a JSON value", reader.i);
    const root = reader.value(0);
    reader.skipWs();
    if (reader.i < text.length) throw new JsonError(`extra data after the JSON value: ${reader.show(reader.i)}`, reader.i);
    return { ok: true, root };
  } catch (err) {
    if (!(err instanceof JsonError)) throw err;
    return { ok: false, message: err.message, at: positionOf(text, err.offset) };
  }
}

export function positionOf(text: string, offset: number): Position {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

class Reader {
  i = 0;
  /** Offsets where lines start, so that a position costs a binary search, not a scan. */
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  at(offset = this.i): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }

  show(offset: number): string {
    const ch = this.text[offset];
    if (ch === undefined) return "end of document";
    const code = ch.codePointAt(0)!;
    return code < 0x20 || code > 0x7e ? `U+${code.toString(16).toUpperCase().padStart(4, "0")}` : JSON.stringify(ch);
  }

  skipWs(): void {
    while (this.i < this.text.length && WS.has(this.text[this.i]!)) this.i++;
  }

  value(depth: number): JsonNode {
    if (depth > MAX_DEPTH) throw new JsonError(`nested deeper than ${MAX_DEPTH} levels`, this.i);
    const start = this.i;
    const ch = this.text[this.i];
    switch (ch) {
      case "{":
        return this.object(depth);
      case "[":
        return this.array(depth);
      case '"':
        return { kind: "string", value: this.string(), at: this.at(start) };
      case "t":
        return this.literal("true", { kind: "boolean", value: true, at: this.at(start) });
      case "f":
        return this.literal("false", { kind: "boolean", value: false, at: this.at(start) });
      case "n":
        return this.literal("null", { kind: "null", at: this.at(start) });
      case "N":
        return this.literal("NaN", { kind: "number", text: "NaN", float: true, value: NaN, at: this.at(start) });
      case "I":
        return this.literal("Infinity", { kind: "number", text: "Infinity", float: true, value: Infinity, at: this.at(start) });
      default: {
        if (this.text.startsWith("-Infinity", this.i)) {
          this.i += 9;
          return { kind: "number", text: "-Infinity", float: true, value: -Infinity, at: this.at(start) };
        }
        NUMBER.lastIndex = this.i;
        const m = NUMBER.exec(this.text);
        if (!m || m[0] === "-" || m[0] === "") throw new JsonError(`expected a JSON value, found ${this.show(this.i)}`, this.i);
        this.i += m[0].length;
        return { kind: "number", text: m[0], float: m[1] !== undefined || m[2] !== undefined, value: Number(m[0]), at: this.at(start) };
      }
    }
  }

  literal<T extends JsonNode>(word: string, node: T): T {
    if (!this.text.startsWith(word, this.i)) throw new JsonError(`expected a JSON value, found ${this.show(this.i)}`, this.i);
    this.i += word.length;
    return node;
  }

  object(depth: number): JsonNode {
    const at = this.at();
    this.i++; // {
    const entries: JsonEntry[] = [];
    this.skipWs();
    if (this.text[this.i] === "}") {
      this.i++;
      return { kind: "object", entries, at };
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.i] !== '"') throw new JsonError(`expected a property name in double quotes, found ${this.show(this.i)}`, this.i);
      const keyAt = this.at();
      const key = this.string();
      this.skipWs();
      if (this.text[this.i] !== ":") throw new JsonError(`expected ':' after a property name, found ${this.show(this.i)}`, this.i);
      this.i++;
      this.skipWs();
      entries.push({ key, keyAt, value: this.value(depth + 1) });
      this.skipWs();
      const sep = this.text[this.i];
      this.i++;
      if (sep === "}") return { kind: "object", entries, at };
      if (sep !== ",") throw new JsonError(`expected ',' or '}' in an object, found ${this.show(this.i - 1)}`, this.i - 1);
    }
  }

  array(depth: number): JsonNode {
    const at = this.at();
    this.i++; // [
    const items: JsonNode[] = [];
    this.skipWs();
    if (this.text[this.i] === "]") {
      this.i++;
      return { kind: "array", items, at };
    }
    for (;;) {
      this.skipWs();
      items.push(this.value(depth + 1));
      this.skipWs();
      const sep = this.text[this.i];
      this.i++;
      if (sep === "]") return { kind: "array", items, at };
      if (sep !== ",") throw new JsonError(`expected ',' or ']' in an array, found ${this.show(this.i - 1)}`, this.i - 1);
    }
  }

  string(): string {
    this.i++; // opening quote
    let out = "";
    for (;;) {
      const ch = this.text[this.i];
      if (ch === undefined) throw new JsonError("unterminated string", this.i);
      if (ch === '"') {
        this.i++;
        return out;
      }
      if (ch.charCodeAt(0) < 0x20) throw new JsonError(`control character ${this.show(this.i)} inside a string (Python's json rejects it)`, this.i);
      if (ch !== "\\") {
        out += ch;
        this.i++;
        continue;
      }
      const esc = this.text[this.i + 1];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (esc !== undefined && simple[esc] !== undefined) {
        out += simple[esc];
        this.i += 2;
      } else if (esc === "u") {
        const hex = this.text.slice(this.i + 2, this.i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonError("invalid \\u escape: expected four hex digits", this.i);
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += 6;
      } else {
        throw new JsonError(`invalid escape ${esc === undefined ? "at end of document" : JSON.stringify("\\" + esc)}`, this.i);
      }
    }
  }
}

/** The plain JavaScript value of a node (duplicate keys: the last wins, as in Python). */
export function toValue(node: JsonNode): unknown {
  switch (node.kind) {
    case "object": {
      const out: Record<string, unknown> = {};
      // defineProperty, so that a key named "__proto__" stays a plain key.
      for (const e of node.entries) Object.defineProperty(out, e.key, { value: toValue(e.value), enumerable: true, writable: true, configurable: true });
      return out;
    }
    case "array":
      return node.items.map(toValue);
    case "null":
      return null;
    default:
      return node.value;
  }
}

/** Text bytes as Python 2 decodes them: strict UTF-8, and a byte-order mark kept (json then rejects it). */
export function decodeUtf8(bytes: Uint8Array): { ok: true; text: string } | { ok: false; message: string } {
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    return { ok: false, message: "not valid UTF-8" };
  }
}
