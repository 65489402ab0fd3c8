import { describe, expect, it } from "vitest";
import { parseMountinfo, parseSwaps } from "../../src/machine/mount-table.ts";

describe("parseMountinfo", () => {
  it("reads device number, mount point, type and source; skips malformed lines", () => {
    const text = [
      "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw",
      "36 22 252:16 / /mnt/with\\040space rw,noatime master:1 shared:2 - xfs /dev/vdb rw,attr2",
      "40 22 0:35 / /data rw - btrfs /dev/vdc rw",
      "garbage line",
      "41 22 0:5 / /dev rw - devtmpfs", // no source field
      "",
    ].join("\n");
    expect(parseMountinfo(text)).toEqual([
      { majorMinor: "252:1", mountPoint: "/", fstype: "ext4", source: "/dev/vda1" },
      { majorMinor: "252:16", mountPoint: "/mnt/with space", fstype: "xfs", source: "/dev/vdb" },
      { majorMinor: "0:35", mountPoint: "/data", fstype: "btrfs", source: "/dev/vdc" },
    ]);
  });
});

describe("parseSwaps", () => {
  it("lists swap devices and files, without the header", () => {
    const text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vdb2                               partition\t1048572\t\t0\t\t-2\n/scratch/swap\\040file file 4194300 0 -3\n";
    expect(parseSwaps(text)).toEqual(["/dev/vdb2", "/scratch/swap file"]);
  });
  it("is empty for an empty or header-only table", () => {
    expect(parseSwaps("")).toEqual([]);
    expect(parseSwaps("Filename Type Size Used Priority\n")).toEqual([]);
  });
});
