// Names of files in the pilot directory. The directory is flat (the publisher puts every file at
// its top level, pilots.md section 4), so a name that is not a plain file name is hostile or a
// mistake: a `/` or `..` could escape the directory, a leading dot could hide a file (or hit the
// agent's own record and temp files, which all start with a dot).

/** Longest name accepted: NAME_MAX of ext4 and most other filesystems. */
const MAX_NAME_BYTES = 255;

/** Why `name` is not a flat, visible file name, or null when it is fine. */
export function flatNameProblem(name: string): string | null {
  if (name === "") return "an empty name";
  if (name.includes("\0")) return "a name with a NUL byte";
  if (name.includes("/")) return `a path, not a file name (${JSON.stringify(name)} contains "/")`;
  if (name.includes("\\")) return `a name with a backslash (${JSON.stringify(name)})`;
  if (name === "." || name === "..") return `the directory entry ${JSON.stringify(name)}`;
  if (name.startsWith(".")) return `a hidden name (${JSON.stringify(name)} starts with ".")`;
  // Control characters (newline, escape) would break log lines and terminals.
  if (/[\u0000-\u001f\u007f]/.test(name)) return `a name with control characters (${JSON.stringify(name)})`;
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `a name longer than ${MAX_NAME_BYTES} bytes`;
  return null;
}
