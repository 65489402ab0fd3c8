// The OpenStack config drive: the same meta_data.json and user_data as the metadata service,
// as files. Either a directory given by the caller (tests, laptops) or "auto": a device labelled
// config-2, mounted read-only for the time of the read.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConfigDriveDevice } from "./config-drive-device.ts";
import { openstackValues } from "./openstack-meta.ts";
import type { Probe } from "./probe.ts";
import type { Provider, ProviderOutcome } from "./provider.ts";

const META = "openstack/latest/meta_data.json";
const USER_DATA = "openstack/latest/user_data";

export function configDriveProvider(where: "auto" | string, device: ConfigDriveDevice, now: () => number): Provider {
  let absent: string | null = null;
  return {
    name: "config-drive",
    async probe(probe: Probe): Promise<ProviderOutcome> {
      if (where !== "auto") return readDrive(where, probe, now);
      // A device does not appear later in the boot: say it once, then stay quiet on retries.
      if (absent !== null) return { reason: absent };
      const started = now();
      const found = await device.find();
      if (found === null) {
        absent = "no device labelled config-2";
        probe.record({ provider: "config-drive", url: device.description, outcome: absent, durationMs: now() - started });
        return { reason: absent };
      }
      let mounted;
      try {
        mounted = await device.mount(found);
      } catch (err) {
        const reason = `cannot mount ${found} read-only: ${err instanceof Error ? err.message : String(err)}`;
        probe.record({ provider: "config-drive", url: found, outcome: reason, durationMs: now() - started });
        return { reason };
      }
      try {
        return await readDrive(mounted.dir, probe, now);
      } finally {
        await mounted.release();
      }
    },
  };
}

async function readDrive(dir: string, probe: Probe, now: () => number): Promise<ProviderOutcome> {
  const started = now();
  const metaPath = join(dir, META);
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(metaPath, "utf8"));
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === "ENOENT" ? `no ${META} in ${dir}` : code ? `cannot read ${metaPath} (${code})` : `${META} is not JSON`;
    probe.record({ provider: "config-drive", url: metaPath, outcome: reason, durationMs: now() - started });
    return { reason };
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    const reason = `${META} is JSON but not an object`;
    probe.record({ provider: "config-drive", url: metaPath, outcome: reason, durationMs: now() - started });
    return { reason };
  }
  probe.record({ provider: "config-drive", url: metaPath, outcome: "read", durationMs: now() - started });
  let userData: Uint8Array | null = null;
  const udPath = join(dir, USER_DATA);
  try {
    userData = new Uint8Array(await readFile(udPath));
    probe.record({ provider: "config-drive", url: udPath, outcome: `read (${userData.byteLength} bytes)`, durationMs: now() - started });
  } catch (err) {
    const code = (err as { code?: string }).code ?? "unreadable";
    if (code !== "ENOENT") {
      const reason = `cannot read ${udPath} (${code})`;
      probe.record({ provider: "config-drive", url: udPath, outcome: reason, durationMs: now() - started });
      return { reason };
    }
    probe.record({ provider: "config-drive", url: udPath, outcome: "absent", durationMs: now() - started });
  }
  return {
    found: { provider: "config-drive", origin: dir, userData, values: openstackValues(doc as Record<string, unknown>), problems: [] },
  };
}
