import { describe, expect, it } from "vitest";
import { shellQuote } from "../../src/exec/shell-quote.ts";

describe("shellQuote", () => {
  it.each([
    [["useradd", "--system", "condor"], "useradd --system condor"],
    [["sh", "-c", "echo 'hi' && rm x"], `sh -c 'echo '\\''hi'\\'' && rm x'`],
    [["echo", ""], "echo ''"],
    [["printf", "a b", "$HOME", "*"], "printf 'a b' '$HOME' '*'"],
    [["mount", "-o", "rw,noatime", "/dev/vdb", "/scratch"], "mount -o rw,noatime /dev/vdb /scratch"],
  ])("%j -> %s", (argv, expected) => {
    expect(shellQuote(argv)).toBe(expected);
  });
});
