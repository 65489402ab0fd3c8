// A command's input file, or standard input for "-", as bytes; never throws.

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export type Input = { ok: true; bytes: Uint8Array; baseDir: string } | { ok: false; message: string };

/** Inputs larger than this are refused: pipes are a few kilobytes, templates at most tens. */
export const MAX_INPUT_BYTES = 16 << 20;

export async function readInput(file: string): Promise<Input> {
  try {
    const bytes = file === "-" ? await readStdin() : await readFile(file);
    if (bytes.length > MAX_INPUT_BYTES) return { ok: false, message: `${file}: more than ${MAX_INPUT_BYTES} bytes` };
    return { ok: true, bytes, baseDir: file === "-" ? process.cwd() : dirname(resolve(file)) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, message: `cannot read ${file}: ${code === "ENOENT" ? "no such file" : code ?? String(err)}` };
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT_BYTES) break;
  }
  return Buffer.concat(chunks);
}
