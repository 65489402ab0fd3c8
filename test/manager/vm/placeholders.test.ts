import { describe, expect, it } from "vitest";
import { checkPlaceholders, fillPlaceholders, findPlaceholders, usesPerVm } from "../../../src/manager/vm/placeholders.ts";

describe("placeholders", () => {
  it("finds each use with its agent name", () => {
    expect(findPlaceholders("a {{vacuum.vm_id}} b {{vacuum.agent_sha256.arm}} ##user_data_space##")).toEqual([
      { text: "{{vacuum.vm_id}}", name: "vm_id", agent: null },
      { text: "{{vacuum.agent_sha256.arm}}", name: "agent_sha256", agent: "arm" },
    ]);
  });

  it.each([
    ["{{vacuum.vm_token}}", [], []],
    ["{{vacuum.vm_tokn}}", [], ["{{vacuum.vm_tokn}}: unknown placeholder"]],
    ["{{vacuum.vm_id.x}}", [], ["{{vacuum.vm_id.x}}: vm_id takes no .NAME"]],
    ["{{vacuum.agent_url}}", [], ['{{vacuum.agent_url}}: the definition has no "agents"']],
    ["{{vacuum.agent_url.arm}}", ["agent"], ['{{vacuum.agent_url.arm}}: no agent named "arm"']],
    ["{{vacuum.agent_url.arm}} {{vacuum.agent_sha256}}", ["agent", "arm"], []],
  ])("%s with agents %j", (template, agents, want) => {
    const got = checkPlaceholders(template, agents);
    expect(got).toHaveLength(want.length);
    want.forEach((w, i) => expect(got[i]).toContain(w));
  });

  it("fills known names, leaves the rest as written and never touches ##user_data_*##", () => {
    const out = fillPlaceholders("{{vacuum.vm_id}} {{vacuum.nope}} ##user_data_uuid## {{ vacuum.vm_id }}", (n) => (n === "vm_id" ? "abc" : undefined));
    expect(out).toBe("abc {{vacuum.nope}} ##user_data_uuid## {{ vacuum.vm_id }}");
  });

  it("tells per-VM names apart", () => {
    expect(usesPerVm("{{vacuum.manager_url}} {{vacuum.agent_sha256}}")).toBe(false);
    expect(usesPerVm("x {{vacuum.joboutputs_url}}")).toBe(true);
  });
});
