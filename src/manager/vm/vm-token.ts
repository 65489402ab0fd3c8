// Per-VM tokens without storage: token = HMAC-SHA256(key, machinetype, VM id), base64url. The
// manager writes a fresh VM id and its token into each copy of a user_data template it serves;
// checking a PUT is one HMAC and one constant-time compare, no lookup. The key (32 random bytes)
// lives in the state directory, mode 0600, created on first start: deleting it revokes every
// token at once. A token is good for exactly one machinetype and VM id: another VM's token fails.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";

export const TOKEN_KEY_FILE = "vm-token.key";
const KEY_BYTES = 32;
/** Domain separation: the key signs nothing else, but a later token kind must not collide. */
const CONTEXT = "vacuum-manager vm-token v1";

export type TokenKey = Buffer & { readonly __tokenKey: unique symbol };

/** The key in `stateDir`, created (0600, never overwritten) when missing. */
export async function loadTokenKey(stateDir: string): Promise<TokenKey> {
  const file = join(stateDir, TOKEN_KEY_FILE);
  try {
    return parseKey(await readFile(file, "utf8"), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const hex = randomBytes(KEY_BYTES).toString("hex");
  try {
    // "wx": two managers starting at once on one state directory cannot both write a key.
    const fh = await open(file, "wx", 0o600);
    try {
      await fh.writeFile(`${hex}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return parseKey(hex, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return parseKey(await readFile(file, "utf8"), file);
    throw err;
  }
}

function parseKey(text: string, file: string): TokenKey {
  const hex = text.trim();
  // The message names the file, never its content.
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file}: expected ${KEY_BYTES * 2} hex digits`);
  return Buffer.from(hex, "hex") as TokenKey;
}

export function vmToken(key: TokenKey, machinetype: string, vmId: string): string {
  return createHmac("sha256", key).update(`${CONTEXT}\n${machinetype}\n${vmId}`).digest("base64url");
}

export function tokenMatches(key: TokenKey, machinetype: string, vmId: string, token: string): boolean {
  const want = Buffer.from(vmToken(key, machinetype, vmId));
  const got = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A new VM id: 20 hex digits (80 random bits), unique without coordination between managers. */
export const mintVmId = (): string => randomBytes(10).toString("hex");

/** VM ids the manager accepts in paths: its own, or one a laptop user chose (`laptop-1`). */
export const VM_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
