import { describe, expect, it } from "vitest";
import { explainRuntimeFailure } from "../../src/isolation/failure.ts";

// stderr lines as Apptainer 1.4.5 printed them in the sid chroot (test/isolation/apptainer.test.ts).
describe("explainRuntimeFailure", () => {
  it.each([
    [
      "a missing SIF",
      "FATAL:   While checking container encryption: could not open image /srv/nope.sif: failed to retrieve path for /srv/nope.sif: lstat /srv/nope.sif: no such file or directory\n",
      { item: "image", text: "the container image /srv/nope.sif does not exist" },
    ],
    [
      "user namespaces disabled",
      "\x1b[91mERROR  : Failed to create user namespace: maximum number of user namespaces exceeded, check /proc/sys/user/max_user_namespaces\n\x1b[0m",
      { item: "userns", text: "unprivileged user namespaces are disabled (user.max_user_namespaces, kernel.unprivileged_userns_clone)" },
    ],
    ["user namespaces not allowed", "ERROR  : Failed to create user namespace: not allowed\n", { item: "userns", text: "unprivileged user namespaces are disabled (user.max_user_namespaces, kernel.unprivileged_userns_clone)" }],
    ["something else", "INFO:    Converting SIF file\nFATAL:   container creation failed: mount hook function failure\n", { item: "other", text: "the test container failed: container creation failed: mount hook function failure" }],
    ["nothing", "", { item: "other", text: "the test container failed" }],
  ])("%s", (_n, stderr, expected) => {
    expect(explainRuntimeFailure(stderr)).toEqual(expected);
  });
});
