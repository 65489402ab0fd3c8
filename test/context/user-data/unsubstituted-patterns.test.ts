import { describe, expect, it } from "vitest";
import { explainPattern, findPatterns, patternKey, scanPatterns } from "../../../src/context/user-data/unsubstituted-patterns.ts";

describe("findPatterns", () => {
  it.each([
    ["no patterns here", []],
    ["a ##user_data_space## b ##user_data_space## c ##user_data_Bad-x.y##", ["##user_data_space##", "##user_data_Bad-x.y##"]],
    ["##user_data_a,b## ##user_data_## #user_data_x## ##user_data_ok", ["##user_data_a,b##", "##user_data_##"]],
    ["###user_data_x###", ["##user_data_x##"]],
  ])("%j", (text, patterns) => expect(findPatterns(text)).toEqual(patterns));
});

describe("explainPattern", () => {
  it.each([
    ["##user_data_space##", true],
    ["##user_data_a,b##", true],
    ["##user_data_Bad##", false],
    ["##user_data_a-b##", false],
    ["##user_data_a.b##", false],
  ])("%s removable by Vac: %s", (pattern, removable) => {
    const message = explainPattern(pattern);
    expect(message.startsWith(`${pattern} was not substituted: `)).toBe(true);
    expect(message.includes("so this user_data was not rendered by them")).toBe(removable);
    expect(message.includes('neither fill nor remove a name with upper case, "-" or "."')).toBe(!removable);
  });
});

describe("scanPatterns", () => {
  it("reports each pattern once per line, in every text, except those already reported", () => {
    const texts = [
      { prefix: "part 1 (text/x-shellscript)", lines: ["echo ##user_data_space## ##user_data_space##", "ok", "##user_data_Bad##"] },
      { prefix: "", lines: ["##user_data_uuid##"] },
    ];
    const problems = scanPatterns(texts, new Set([patternKey("part 1 (text/x-shellscript) line 3", "##user_data_Bad##")]));
    expect(problems.map((p) => [p.severity, p.source, p.path, p.message])).toEqual([
      ["warning", "user_data", "part 1 (text/x-shellscript) line 1", explainPattern("##user_data_space##")],
      ["warning", "user_data", "line 1", explainPattern("##user_data_uuid##")],
    ]);
  });

  it("lists 100 warnings and counts the rest", () => {
    const problems = scanPatterns([{ prefix: "", lines: Array.from({ length: 130 }, () => "##user_data_x##") }], new Set());
    expect(problems).toHaveLength(101);
    expect(problems[100]).toMatchObject({ path: "", message: "30 more unsubstituted ##user_data_*## patterns are not listed" });
  });
});
