import { planCvmfsReadiness } from "../cvmfs/readiness.ts";
import type { Stage } from "./stage.ts";

/** CVMFS usable before the payload starts: proxies probed, the directories it needs present. */
export const cvmfsReady: Stage = {
  id: "cvmfs-ready",
  title: "CVMFS proxies and repositories usable",
  skip: (ctx) => ((ctx.config.cvmfs.repositories ?? []).length === 0 ? "no CVMFS repositories configured" : planCvmfsReadiness(ctx).length === 0 ? "no cvmfs.server_urls to probe and no cvmfs.wait_for" : null),
  plan: (ctx) => planCvmfsReadiness(ctx),
  failure: { code: 500, fatal: true, text: "CVMFS not usable" },
};
