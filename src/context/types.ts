// The read-only results of each input reader. Readers never throw on bad input: they return what
// they could read plus Problems addressed by source and path. src/context/gather.ts combines them
// into the one Context that planners see.

import type { Problem } from "../config/problem.ts";

// ---------------------------------------------------------------- user_data

export type UserDataFormat = "mime" | "shell" | "cloud-config" | "json" | "agent-document" | "plain" | "empty" | "binary";

export interface UserDataPart {
  /** 1-based index in the multipart message; 0 for a non-MIME user_data. */
  index: number;
  contentType: string;
  /** Decoded body (base64 / quoted-printable undone, charset decoded as UTF-8). */
  body: string;
  filename?: string;
}

/** One `key = value` (or heredoc) entry of the agent document, with where it was written. */
export interface DocumentEntry {
  key: string;
  value: string;
  /** Human location: `part 2 (text/x-vacuum-agent) line 7`. */
  location: string;
}

export interface UserDataResult {
  format: UserDataFormat;
  /** Size in bytes of the raw user_data. */
  size: number;
  parts: UserDataPart[];
  /** Where the agent document was found, or null when there is none. */
  documentLocation: string | null;
  /**
   * The agent document as a nested object, before schema validation:
   * - from JSON: the parsed object;
   * - from `key = value` lines: dotted keys expanded (`payload.dirac.queue` -> {payload:{dirac:{queue}}}),
   *   every value a string (the schema coerces), empty values omitted (Vac deletes patterns it
   *   cannot fill: empty means "not set").
   * `user_data_*` keys are NOT in here: they are in `vacuumValues`.
   */
  document: Record<string, unknown> | null;
  /** `user_data_*` names (without the `##`) written in the document, non-empty values only. */
  vacuumValues: Record<string, string>;
  /** Every entry as written, for provenance and secret redaction. */
  entries: DocumentEntry[];
  problems: Problem[];
}

// ---------------------------------------------------------------- metadata service

export type MetadataProvider = "config-drive" | "openstack" | "ec2" | "vac" | "gce";

export interface MetadataResult {
  provider: MetadataProvider;
  /** The base URL (or config drive directory) that answered. */
  origin: string;
  /** Raw user_data bytes, or null when the provider has none (404). */
  userData: Uint8Array | null;
  /** Values found in metadata, normalised across providers (absent when the provider has none). */
  values: {
    uuid?: string;
    hostname?: string;
    name?: string;
    availabilityZone?: string;
    machinetype?: string;
    machinefeatures?: string;
    jobfeatures?: string;
    joboutputs?: string;
  };
  /** Every provider tried, in order, with what happened: for the dry run and the log. */
  attempts: MetadataAttempt[];
  problems: Problem[];
}

export interface MetadataAttempt {
  provider: MetadataProvider;
  url: string;
  outcome: string;
  durationMs: number;
}

// ---------------------------------------------------------------- Machine/Job Features

export type MjfSourceKind = "directory" | "url";

/** Typed MJF values: a key absent, non-numeric where a number is expected, or 404 is undefined. */
export interface MachineFeatures {
  total_cpu?: number;
  hs06?: number;
  shutdowntime?: number;
  grace_secs?: number;
  phys_cores?: number;
  log_cores?: number;
  jobslots?: number;
}

export interface JobFeatures {
  allocated_cpu?: number;
  hs06_job?: number;
  shutdowntime_job?: number;
  grace_secs_job?: number;
  jobstart_secs?: number;
  job_id?: string;
  wall_limit_secs?: number;
  cpu_limit_secs?: number;
  max_rss_bytes?: number;
  max_swap_bytes?: number;
  scratch_limit_bytes?: number;
}

export interface MjfResult {
  machinefeatures: { location: string | null; kind: MjfSourceKind | null; values: MachineFeatures; raw: Record<string, string> };
  jobfeatures: { location: string | null; kind: MjfSourceKind | null; values: JobFeatures; raw: Record<string, string> };
  problems: Problem[];
}
