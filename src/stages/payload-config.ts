// Configuration a payload needs before host preparation runs. HTCondor's is written here with
// START = False: an image whose own condor_master is already running (or starts with the machine)
// must not accept a job on a host that is not ready; the payload stage turns START on once every
// earlier stage passed (src/payloads/htcondor/plan.ts).
import { planHtcondorConfig } from "../payloads/htcondor/plan.ts";
import type { Stage } from "./stage.ts";

export const payloadConfig: Stage = {
  id: "payload-config",
  title: "payload configuration (HTCondor with START = False)",
  skip: (ctx) => (ctx.config.payload.type === "htcondor" ? null : `nothing to configure early for a ${ctx.config.payload.type} payload`),
  plan: (ctx) => (ctx.config.payload.type === "htcondor" ? planHtcondorConfig(ctx) : []),
  // The payload cannot run without it; the configuration comes from the experiment's template.
  failure: { code: 600, fatal: true, text: "Payload configuration failed" },
};
