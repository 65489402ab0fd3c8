// The only file allowed to import undici. The bare name "undici" resolves to bun's built-in shim
// in the compiled binary, which silently ignores `connect: { ca, cert, key }` (toolchain.md P2),
// so import the package file and refuse to run if the shim got bundled anyway.

export { Agent, request } from "undici/index.js";
import { Agent } from "undici/index.js";

if (typeof (Agent.prototype as unknown as { dispatch?: unknown }).dispatch !== "function") {
  throw new Error("undici shim bundled");
}
