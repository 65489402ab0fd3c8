// Problems of the user_data and the human locations they point at. Every error in the user_data
// is a template problem that every VM of the machinetype shares, so it ends the VM with 600
// ("grid-wide problem with job agent or application", vacuum-platform.md section 5).

import { problem, type Problem } from "../../config/problem.ts";
import type { ShutdownCode } from "../../contract/codes.ts";

const TEMPLATE_UNUSABLE: ShutdownCode = 600;

export const userDataError = (path: string, message: string): Problem =>
  problem("error", "user_data", path, message, TEMPLATE_UNUSABLE);

export const userDataWarning = (path: string, message: string): Problem =>
  problem("warning", "user_data", path, message);

/** `part 2 (text/x-vacuum-agent)`; the prefix of every location inside a MIME part. */
export const partLabel = (index: number, contentType: string): string => `part ${index} (${contentType})`;

/** `part 2 (text/x-vacuum-agent) line 7`, or `line 7` outside MIME (prefix ""). */
export const lineLocation = (prefix: string, line: number): string => (prefix ? `${prefix} line ${line}` : `line ${line}`);

/** `part 4 (text/x-shellscript) lines 10-25`, or `lines 10-25`. */
export const linesLocation = (prefix: string, first: number, last: number): string =>
  (prefix ? `${prefix} ` : "") + (first === last ? `line ${first}` : `lines ${first}-${last}`);

/**
 * Problems of one document, listed up to a cap: a 4 MiB text of broken lines would otherwise
 * produce a million of them. The rest are counted in one closing problem.
 */
export class CappedProblems {
  private readonly items: Problem[] = [];
  private unlisted = 0;
  private unlistedError = false;

  constructor(private readonly max: number) {}

  readonly add = (p: Problem): void => {
    if (this.items.length < this.max) {
      this.items.push(p);
    } else {
      this.unlisted++;
      if (p.severity === "error") this.unlistedError = true;
    }
  };

  list(): Problem[] {
    if (this.unlisted === 0) return [...this.items];
    const more = `${this.unlisted} more problems are not listed`;
    return [...this.items, this.unlistedError ? userDataError("", more) : userDataWarning("", more)];
  }
}
