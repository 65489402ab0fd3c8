// readMetadata(): the cloud metadata sources in a fixed order, first success wins
// (vacuum-platform.md 2.3): config drive -> OpenStack -> EC2/Vac (IMDSv2, else v1) -> GCE.
// The link-local server may not be up yet at first boot (Vac restarts a failed one every 10 s),
// so the whole sequence is retried with back-off until maxWaitMs has passed.

import { problem, type Problem } from "../../config/problem.ts";
import type { MetadataAttempt, MetadataResult } from "../types.ts";
import { systemConfigDrive, type ConfigDriveDevice } from "./config-drive-device.ts";
import { configDriveProvider } from "./config-drive.ts";
import { ec2Provider } from "./ec2.ts";
import { gceProvider } from "./gce.ts";
import { openstackProvider } from "./openstack.ts";
import { createProbe } from "./probe.ts";
import type { Provider } from "./provider.ts";

export type { ConfigDriveDevice, MountedDrive } from "./config-drive-device.ts";

export interface MetadataOptions {
  /** OpenStack/EC2/Vac base URL; default http://169.254.169.254. */
  baseUrl?: string;
  /** GCE base URL; default http://metadata.google.internal. --metadata-url sets both. */
  gceBaseUrl?: string;
  /** "auto" (look for a config-2 device), a directory holding openstack/latest/..., or null (none). Default null. */
  configDrive?: "auto" | string | null;
  /** How "auto" finds and mounts the device; tests replace it. */
  configDriveDevice?: ConfigDriveDevice;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Give up retrying the sequence after this long; 0 = one pass only. */
  maxWaitMs?: number;
  /** Pauses between passes; the last one repeats. */
  backoffMs?: number[];
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds clock. */
  now?: () => number;
}

export interface MetadataFailure {
  provider: null;
  attempts: MetadataAttempt[];
  problems: Problem[];
}

export const DEFAULT_METADATA_URL = "http://169.254.169.254";
export const DEFAULT_GCE_METADATA_URL = "http://metadata.google.internal";
export const DEFAULT_BACKOFF_MS = [1000, 2000, 4000, 8000, 16000];

export async function readMetadata(opts: MetadataOptions = {}): Promise<MetadataResult | MetadataFailure> {
  const baseUrl = trimSlash(opts.baseUrl ?? DEFAULT_METADATA_URL);
  const gceBaseUrl = trimSlash(opts.gceBaseUrl ?? DEFAULT_GCE_METADATA_URL);
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxWaitMs = opts.maxWaitMs ?? 120_000;
  const backoff = opts.backoffMs && opts.backoffMs.length > 0 ? opts.backoffMs : DEFAULT_BACKOFF_MS;
  const settings = { connectTimeoutMs: opts.connectTimeoutMs ?? 2000, requestTimeoutMs: opts.requestTimeoutMs ?? 5000, now };

  const providers: Provider[] = [];
  if (opts.configDrive) providers.push(configDriveProvider(opts.configDrive, opts.configDriveDevice ?? systemConfigDrive, now));
  providers.push(openstackProvider(baseUrl), ec2Provider(baseUrl), gceProvider(gceBaseUrl));

  const attempts: MetadataAttempt[] = [];
  const started = now();
  let reasons: string[] = [];
  let passes = 0;
  for (;;) {
    const probe = createProbe(settings, attempts);
    reasons = [];
    passes++;
    for (const provider of providers) {
      const outcome = await provider.probe(probe);
      if ("found" in outcome) return { ...outcome.found, attempts };
      reasons.push(`${provider.name}: ${oneLine(outcome.reason)}`);
    }
    const elapsed = now() - started;
    if (elapsed >= maxWaitMs) break;
    await sleep(Math.min(backoff[Math.min(passes - 1, backoff.length - 1)]!, maxWaitMs - elapsed));
  }
  const waited = Math.round((now() - started) / 1000);
  const tries = passes === 1 ? "in one pass" : `in ${passes} passes over ${waited} s`;
  return {
    provider: null,
    attempts,
    problems: [problem("error", "metadata", baseUrl, `no metadata source answered ${tries}: ${reasons.join("; ")}`, 500)],
  };
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");
const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();
