import type { Stage } from "./stage.ts";

/** The host name Vac or Vcycle gave this VM (##user_data_machine_hostname##) or the metadata's. */
export const hostname: Stage = {
  id: "hostname",
  title: "host name",
  skip: (ctx) => {
    const wanted = ctx.config.identity.hostname;
    if (!wanted) return "no host name in the user_data or metadata";
    if (!ctx.root && wanted === ctx.machine.hostname) return `already ${wanted}`;
    return null;
  },
  plan: (ctx) => [{ kind: "set-hostname", hostname: ctx.config.identity.hostname!, why: "the name the site gave this VM" }],
  failure: { code: 500, fatal: false, text: "Cannot set the host name" },
};
