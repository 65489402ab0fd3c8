// Where a JSON text goes wrong, as line and column. JSON.parse cannot be used for the message: V8
// quotes a slice of the input (which may hold a proxy or a key) and JavaScriptCore, in the
// compiled binary, gives no position at all. This scanner is iterative, so deep nesting cannot
// overflow the stack, and it only names structural characters, never string contents.

export interface JsonSyntaxError {
  line: number;
  column: number;
  /** `expected "," or "}" after a property value, found "]"` */
  message: string;
}

type Expect = "value" | "value-or-]" | "key" | "key-or-}" | "colon" | "comma-or-close" | "end";

const EXPECTED: Record<Expect, string> = {
  value: "a value",
  "value-or-]": 'a value or "]"',
  key: "a double-quoted property name",
  "key-or-}": 'a double-quoted property name or "}"',
  colon: '":" after the property name',
  "comma-or-close": "", // depends on the enclosing container
  end: "nothing after the JSON value",
};

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERALS = ["true", "false", "null"];
const ESCAPE = /^(["\\/bfnrt]|u[0-9A-Fa-f]{4})/;

function at(text: string, offset: number, message: string): JsonSyntaxError {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1, message };
}

const found = (text: string, i: number): string => (i >= text.length ? "the end of the text" : JSON.stringify(text[i]));

/** End offset of the string starting at `start` (a `"`), or an error. */
function scanString(text: string, start: number): number | JsonSyntaxError {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x0a) return at(text, i, "a string runs past the end of its line: expected a closing '\"'");
    if (c < 0x20) return at(text, i, "a control character inside a string: expected it escaped");
    if (c === 0x5c) {
      if (!ESCAPE.test(text.slice(i + 1, i + 6))) return at(text, i, "an invalid escape sequence in a string");
      i += text[i + 1] === "u" ? 5 : 1;
    }
  }
  return at(text, text.length, "a string never ends: expected a closing '\"'");
}

/** The first syntax error in `text`, or null when it is valid JSON. */
export function locateJsonError(text: string): JsonSyntaxError | null {
  const stack: string[] = [];
  let expect: Expect = "value";
  let i = 0;
  const afterValue = (): Expect => (stack.length ? "comma-or-close" : "end");
  for (;;) {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
    if (i >= text.length && expect === "end") return null;
    const c = text[i];
    const top = stack[stack.length - 1];
    switch (expect) {
      case "value":
      case "value-or-]": {
        if (c === "]" && expect === "value-or-]") {
          stack.pop();
          i++;
          expect = afterValue();
        } else if (c === "{" || c === "[") {
          stack.push(c);
          i++;
          expect = c === "{" ? "key-or-}" : "value-or-]";
        } else if (c === '"') {
          const end = scanString(text, i);
          if (typeof end !== "number") return end;
          i = end;
          expect = afterValue();
        } else if (c !== undefined && (c === "-" || (c >= "0" && c <= "9"))) {
          NUMBER.lastIndex = i;
          if (!NUMBER.exec(text)) return at(text, i, "expected a number");
          i = NUMBER.lastIndex;
          expect = afterValue();
        } else {
          const literal = LITERALS.find((l) => text.startsWith(l, i));
          if (!literal) return at(text, i, `expected ${EXPECTED[expect]}, found ${found(text, i)}`);
          i += literal.length;
          expect = afterValue();
        }
        break;
      }
      case "key":
      case "key-or-}": {
        if (c === "}" && expect === "key-or-}") {
          stack.pop();
          i++;
          expect = afterValue();
        } else if (c === '"') {
          const end = scanString(text, i);
          if (typeof end !== "number") return end;
          i = end;
          expect = "colon";
        } else {
          return at(text, i, `expected ${EXPECTED[expect]}, found ${found(text, i)}`);
        }
        break;
      }
      case "colon":
        if (c !== ":") return at(text, i, `expected ${EXPECTED.colon}, found ${found(text, i)}`);
        i++;
        expect = "value";
        break;
      case "comma-or-close": {
        const close = top === "{" ? "}" : "]";
        if (c === ",") {
          i++;
          expect = top === "{" ? "key" : "value";
        } else if (c === close) {
          stack.pop();
          i++;
          expect = afterValue();
        } else {
          const after = top === "{" ? "a property value" : "an array element";
          return at(text, i, `expected "," or "${close}" after ${after}, found ${found(text, i)}`);
        }
        break;
      }
      case "end":
        return at(text, i, `unexpected ${found(text, i)} after the JSON value`);
    }
  }
}
