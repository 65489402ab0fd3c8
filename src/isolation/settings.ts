// The `isolation` section of the configuration, with its defaults. Read through isolationSettings()
// so the planners work the same before and after the section is in the shared schema and AgentConfig.

import type { Context } from "../context/context.ts";

export interface IsolationSettings {
  /** Refuse the VM (500) when no container can be run; otherwise only warn. */
  required: boolean;
  /** Apptainer or Singularity to use; else PATH, the standard directories, then the OSG CVMFS path. */
  runtime_path?: string;
  /** A sandbox directory or a .sif file to prove the runtime with (and to hand to the payload). */
  image?: string;
  /** The trivial command run in the image before the payload starts. */
  test_command: string[];
}

export const ISOLATION_DEFAULTS: Readonly<IsolationSettings> = { required: false, test_command: ["/bin/true"] };

/** The section as configured, with defaults filled in. */
export function isolationSettings(ctx: Context): IsolationSettings {
  const raw = (ctx.config as { isolation?: Partial<IsolationSettings> }).isolation ?? {};
  const s: IsolationSettings = { required: raw.required ?? ISOLATION_DEFAULTS.required, test_command: raw.test_command?.length ? [...raw.test_command] : [...ISOLATION_DEFAULTS.test_command] };
  if (raw.runtime_path !== undefined && raw.runtime_path !== "") s.runtime_path = raw.runtime_path;
  if (raw.image !== undefined && raw.image !== "") s.image = raw.image;
  return s;
}
