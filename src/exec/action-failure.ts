import type { ShutdownCode } from "../contract/codes.ts";

/** A failed action that knows its shutdown code better than its stage does (fetch-pilot: 500 vs 600). */
export class ActionFailure extends Error {
  constructor(
    message: string,
    readonly code: ShutdownCode,
  ) {
    super(message);
  }
}
