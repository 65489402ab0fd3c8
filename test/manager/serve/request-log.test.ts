import { describe, expect, it } from "vitest";
import { batchedLog } from "../../../src/manager/serve/request-log.ts";

const turn = () => new Promise((r) => setImmediate(r));

describe("batchedLog", () => {
  it("writes the lines of one turn in one call, in order, and nothing before the turn ends", async () => {
    const calls: string[][] = [];
    const log = batchedLog((lines) => calls.push([...lines]));
    log.add("a");
    log.add("b");
    expect(calls).toEqual([]);
    await turn();
    expect(calls).toEqual([["a", "b"]]);
    log.add("c");
    await turn();
    expect(calls).toEqual([["a", "b"], ["c"]]);
  });

  it.each([
    [3, 7, [3, 3, 1]],
    [5, 5, [5]],
    [512, 2, [2]],
  ])("at most %i lines per call: %i lines go out as %j", async (max, n, sizes) => {
    const calls: (readonly string[])[] = [];
    const log = batchedLog((lines) => calls.push(lines), max);
    for (let i = 0; i < n; i++) log.add(String(i));
    await turn();
    expect(calls.map((c) => c.length)).toEqual(sizes);
    expect(calls.flat()).toEqual(Array.from({ length: n }, (_, i) => String(i)));
  });

  it("flush() writes what is pending at once, and an empty flush writes nothing", () => {
    const calls: (readonly string[])[] = [];
    const log = batchedLog((lines) => calls.push(lines));
    log.flush();
    log.add("x");
    log.flush();
    expect(calls).toEqual([["x"]]);
  });
});
