import { cacheBase, DEFAULT_LOCAL_PATH, renderDefaultLocal } from "../cvmfs/default-local.ts";
import type { Stage } from "./stage.ts";

/** `cvmfs_config setup` (autofs map, fuse.conf, the cvmfs user) takes a few seconds; a minute is generous. */
export const CVMFS_SETUP_TIMEOUT_MS = 60_000;

/**
 * The CVMFS client: site proxies, cache on scratch, quota. Not fatal: an image without the client
 * (or where it is already set up) goes on, and whether the repositories the payload needs are
 * really there is decided afterwards by the readiness checks (proxy probe, waited-for paths).
 */
export const cvmfs: Stage = {
  id: "cvmfs",
  title: "CVMFS client configuration",
  skip: (ctx) => (ctx.config.cvmfs.repositories?.length ? null : "no CVMFS repositories configured (cvmfs.repositories)"),
  plan: (ctx) => [
    {
      kind: "mkdir",
      path: cacheBase(ctx.config.scratch.mount_point),
      // The client chowns its cache to the cvmfs user when it mounts; 0755 lets it in before that.
      mode: 0o755,
      why: "CVMFS cache on the scratch disk",
    },
    {
      kind: "write-file",
      path: DEFAULT_LOCAL_PATH,
      mode: 0o644,
      contents: renderDefaultLocal(ctx.config),
      why: "CVMFS repositories, proxies, cache and quota",
    },
    {
      kind: "run-command",
      argv: ["cvmfs_config", "setup"],
      timeoutMs: CVMFS_SETUP_TIMEOUT_MS,
      machineWide: true,
      why: "apply the CVMFS configuration (autofs, fuse); fails harmlessly where the client is not installed",
    },
  ],
  failure: { code: 500, fatal: false, text: "Cannot configure the CVMFS client" },
};
