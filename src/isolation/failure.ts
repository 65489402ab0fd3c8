// Apptainer's own error lines for the failures a site can cause, turned into the one sentence the
// shutdown message and the log carry. Apptainer prints `FATAL:` or `ERROR  :` lines with colour
// codes when it thinks it has a terminal; both are stripped here.

export interface RuntimeFailure {
  /** "image" | "userns" | "runtime" | "other": which item the site has to fix. */
  item: "image" | "userns" | "runtime" | "other";
  text: string;
}

const ANSI = /\x1b\[[0-9;]*m/g;

const RULES: { item: RuntimeFailure["item"]; test: RegExp; text: (m: RegExpMatchArray) => string }[] = [
  { item: "image", test: /could not open image (\S+?):.*no such file or directory/i, text: (m) => `the container image ${m[1]} does not exist` },
  { item: "image", test: /(?:image|container) (?:path )?(\S+) (?:does not exist|doesn't exist)/i, text: (m) => `the container image ${m[1]} does not exist` },
  {
    item: "userns",
    test: /(?:failed to create user namespace|user namespace).*(?:maximum number of user namespaces exceeded|not allowed|disabled|operation not permitted|no space left)/i,
    text: () => "unprivileged user namespaces are disabled (user.max_user_namespaces, kernel.unprivileged_userns_clone)",
  },
  { item: "runtime", test: /(?:no such file or directory|not found).*(apptainer|singularity)|(apptainer|singularity).*: (?:not found|no such file)/i, text: () => "the container runtime cannot be started" },
];

/** The first FATAL/ERROR line, or the last non-empty line, without colour codes. */
function keyLine(stderr: string): string {
  const lines = stderr.replace(ANSI, "").split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^(FATAL|ERROR)\s*:/.test(l)) ?? lines.at(-1) ?? "";
}

export function explainRuntimeFailure(stderr: string): RuntimeFailure {
  const clean = stderr.replace(ANSI, "");
  for (const r of RULES) {
    const m = clean.match(r.test);
    if (m) return { item: r.item, text: r.text(m) };
  }
  const line = keyLine(stderr).replace(/^(FATAL|ERROR)\s*:\s*/, "");
  return { item: "other", text: line ? `the test container failed: ${line}`.slice(0, 160) : "the test container failed" };
}
