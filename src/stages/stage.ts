// A stage is data plus one pure function: it never touches the disk or spawns anything itself.
// plan(ctx) returns typed actions that the one executor performs (or the dry run prints).

import type { ShutdownCode } from "../contract/codes.ts";
import type { Context } from "../context/context.ts";
import type { Action } from "../plan/actions.ts";

export interface Stage {
  /** Equal to the file name: `hostname` lives in src/stages/hostname.ts. */
  id: string;
  title: string;
  /** null when the stage applies; otherwise why it is skipped (logged and shown by the dry run). */
  skip(ctx: Context): string | null;
  plan(ctx: Context): Action[];
  /** What a failure of this stage means: the shutdown code, and whether later stages still run. */
  failure: { code: ShutdownCode; fatal: boolean; text: string };
  /** When fatality depends on the configuration (e.g. isolation.required); failure.fatal otherwise. */
  fatalWhen?(ctx: Context): boolean;
}
