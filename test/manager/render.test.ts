// The reference renderer: vacuum-platform.md section 1.2 exactly, test cases 1 and 2 of section 8,
// the order of the steps and raw insertion of values.
import { describe, expect, it } from "vitest";
import { renderUserData, type RenderInput } from "../../src/manager/render.ts";

const render = (input: RenderInput): string => {
  const r = renderUserData(input);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.text;
};

describe("renderUserData: section 8 test cases", () => {
  it("test case 1: space filled, unset option removed, upper-case name left literally", () => {
    const r = renderUserData({
      template: "space=##user_data_space## foo=##user_data_option_foo## bad=##user_data_Bad##",
      values: { space: "vac01.example.org" },
    });
    expect(r).toEqual({ ok: true, text: "space=vac01.example.org foo= bad=##user_data_Bad##", problems: [] });
  });

  it("test case 2: both user_data_option_x and user_data_file_x are rejected", () => {
    const r = renderUserData({ template: "##user_data_option_x##", options: { x: "value" }, files: { x: "contents" } });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ path: "files.x", severity: "error", message: expect.stringMatching(/ambiguous/) })]);
  });
});

describe("renderUserData: order of the steps", () => {
  it.each<[string, RenderInput, string]>([
    ["text inserted early is substituted by later steps", { template: "##user_data_space##", values: { space: "s-##user_data_machinetype##", machinetype: "mt" } }, "s-mt"],
    ["text inserted late is not substituted by earlier steps (then removed)", { template: "##user_data_machinetype##", values: { space: "s", machinetype: "##user_data_space##" } }, ""],
    ["an option value holding a pattern is removed by step 9", { template: "##user_data_option_a##", values: { space: "s" }, options: { a: "x##user_data_space##y" } }, "xy"],
    ["the url (step 1) is seen by the site (step 2)", { template: "##user_data_url##", values: { url: "u/##user_data_site##", site: "SITE" } }, "u/SITE"],
    ["deprecated names (step 5) take the step-3 values", { template: "##user_data_vmtype## ##user_data_vm_hostname## ##user_data_vmlm_version## ##user_data_vmlm_hostname##", values: { machinetype: "mt", machine_hostname: "h", manager_version: "Vac 03.00", manager_hostname: "f" } }, "mt h Vac 03.00 f"],
    ["the proxy (step 7) before options (step 8)", { template: "##user_data_option_x509_proxy##", values: { x509_proxy: "PEM" }, options: { x509_proxy: "other" } }, "PEM"],
    ["a file fills its deprecated and its option pattern", { template: "##user_data_file_cert##|##user_data_option_cert##", files: { cert: "C" } }, "C|C"],
    ["an empty conditional value leaves the pattern to step 9", { template: "[##user_data_joboutputs_url##]", values: { joboutputs_url: "" } }, "[]"],
    ["an empty uuid (Vcycle) is removed", { template: "uuid=##user_data_uuid##", values: {} }, "uuid="],
    ["TN04's manager_*_url names are never filled", { template: "##user_data_manager_joboutputs_url##", values: { joboutputs_url: "https://x" } }, ""],
  ])("%s", (_name, input, expected) => {
    expect(render(input)).toBe(expected);
  });
});

describe("renderUserData: values and step 9", () => {
  it.each([
    ["$&", "$&"],
    ["$1$$", "$1$$"],
    ["a'b\"c;d|e", "a'b\"c;d|e"],
    ["back\\slash", "back\\slash"],
    ["line1\nline2", "line1\nline2"],
  ])("inserts %j raw", (value, expected) => {
    expect(render({ template: "<##user_data_option_v##>", options: { v: value } })).toBe(`<${expected}>`);
  });

  it.each([
    ["##user_data_a,b##", ""],
    ["##user_data_x-y##", "##user_data_x-y##"],
    ["##user_data_x.y##", "##user_data_x.y##"],
    ["##user_data_##", ""],
    ["##user_data_a##user_data_b##", "user_data_b##"],
    ["##USER_DATA_space##", "##USER_DATA_space##"],
  ])("step 9 turns %j into %j", (template, expected) => {
    expect(render({ template })).toBe(expected);
  });

  it("replaces every occurrence", () => {
    expect(render({ template: "##user_data_space##/##user_data_space##", values: { space: "s" } })).toBe("s/s");
  });

  it("lower-cases an option name with a warning", () => {
    const r = renderUserData({ template: "##user_data_option_queue##", options: { Queue: "q" } });
    expect(r).toMatchObject({ ok: true, text: "q", problems: [{ path: "options.Queue", severity: "warning" }] });
  });

  it.each(["arc-queue", "a.b", "é"])("rejects the option name %j", (name) => {
    const r = renderUserData({ template: "", options: { [name]: "v" } });
    expect(r).toMatchObject({ ok: false, problems: [{ path: `options.${name}`, severity: "error" }] });
  });

  it("rejects two options that are one after lower-casing", () => {
    expect(renderUserData({ template: "", options: { q: "1", Q: "2" } }).ok).toBe(false);
  });

  it("warns about a value holding a pattern", () => {
    const r = renderUserData({ template: "", options: { v: "##user_data_space##" } });
    expect(r.problems).toEqual([expect.objectContaining({ path: "options.v", severity: "warning" })]);
  });
});
