// What the payload is told about isolation once it is proven: the runtime's path and the image.
// The payload planners turn it into their own knobs: environment variables for a command payload,
// HTCondor's `SINGULARITY` (services.md: the startd then advertises HasSingularity and
// SingularityUserNamespaces), later DIRAC's container CE options.

export interface IsolationHandoff {
  /** Machine path of apptainer (or singularity). */
  runtime: string;
  /** The proven image, or null when none is configured. */
  image: string | null;
}

export function handoffEnv(h: IsolationHandoff): Record<string, string> {
  return { VACUUM_CONTAINER_RUNTIME: h.runtime, ...(h.image !== null ? { VACUUM_CONTAINER_IMAGE: h.image } : {}) };
}

/** Lines for the startd's configuration. */
export const htcondorKnobs = (h: IsolationHandoff): string[] => [`SINGULARITY = ${h.runtime}`];
