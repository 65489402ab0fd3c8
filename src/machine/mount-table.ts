// What is mounted and what swaps: /proc/self/mountinfo and /proc/swaps as plain data. A device is
// matched both by its major:minor (mountinfo field 3, whatever name it was mounted by) and by its
// source path (btrfs and other filesystems report an anonymous 0:N device number).

export interface MountEntry {
  /** "252:16" */
  majorMinor: string;
  mountPoint: string;
  fstype: string;
  /** The mount source, "/dev/vdb" for block devices. */
  source: string;
}

/** Undo the kernel's octal escapes (`\040` for a space) in paths. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Lines that do not have mountinfo's shape are left out, never thrown on. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(" ");
    const dash = f.indexOf("-", 6);
    if (f.length < 10 || dash < 0 || f[dash + 2] === undefined) continue;
    out.push({ majorMinor: f[2]!, mountPoint: unescape(f[4]!), fstype: f[dash + 1]!, source: unescape(f[dash + 2]!) });
  }
  return out;
}

/** The active swap areas' paths (devices and files), from /proc/swaps. */
export function parseSwaps(text: string): string[] {
  return text
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((p) => p.startsWith("/"))
    .map(unescape);
}
