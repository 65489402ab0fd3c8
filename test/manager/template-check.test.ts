// What a template becomes at a site, checked before publishing.
import { describe, expect, it } from "vitest";
import { checkTemplate, type TemplateNames } from "../../src/manager/template-check.ts";

const NONE: TemplateNames = { options: [], files: [], proxy: false };

describe("checkTemplate", () => {
  it("accepts every name Vac and Vcycle fill", () => {
    const names = ["url", "site", "space", "machinetype", "machine_hostname", "manager_version", "manager_hostname", "machinefeatures_url", "jobfeatures_url", "joboutputs_url", "root_image_url", "heartbeat_machines_url", "uuid", "vmtype"];
    expect(checkTemplate(names.map((n) => `##user_data_${n}##`).join("\n"), NONE)).toEqual([]);
  });

  it("accepts defined options, files and the proxy", () => {
    const text = "##user_data_option_queue## ##user_data_option_cert## ##user_data_option_x509_proxy##";
    expect(checkTemplate(text, { options: ["queue"], files: ["cert"], proxy: true })).toEqual([]);
  });

  it.each<[string, string, TemplateNames, RegExp]>([
    ["upper case survives literally", "a\n##user_data_Space##", NONE, /##user_data_Space## \(line 2\) survives literally/],
    ["a hyphen survives literally", "##user_data_option_arc-queue##", NONE, /survives literally/],
    ["TN04's manager_ names are never filled", "##user_data_manager_joboutputs_url##", NONE, /use ##user_data_joboutputs_url##/],
    ["an undefined option is removed", "##user_data_option_queue##", NONE, /no user_data_option_queue or user_data_file_queue is defined/],
    ["the proxy without user_data_proxy", "##user_data_option_x509_proxy##", NONE, /only filled when user_data_proxy is true/],
    ["the deprecated file pattern", "##user_data_file_cert##", { options: [], files: ["cert"], proxy: false }, /deprecated: use ##user_data_option_cert##/],
    ["an unknown name", "##user_data_colour##", NONE, /not a name Vac or Vcycle fills/],
    ["a comma", "##user_data_a,b##", NONE, /never substituted, only removed/],
    ["an option nobody uses", "plain", { options: ["queue"], files: [], proxy: false }, /option queue is defined but the template never uses/],
  ])("warns: %s", (_name, text, names, message) => {
    const problems = checkTemplate(text, names);
    expect(problems).toEqual([expect.objectContaining({ path: "template", severity: "warning", message: expect.stringMatching(message) })]);
  });

  it("reports each name once", () => {
    expect(checkTemplate("##user_data_Bad## ##user_data_Bad##", NONE)).toHaveLength(1);
  });

  it("refuses an empty template", () => {
    expect(checkTemplate(" \n", NONE)).toEqual([expect.objectContaining({ severity: "error" })]);
  });
});
