// What kind of user_data this is, as cloud-init would see it (MIME is decided in mime.ts).

import type { UserDataFormat } from "../types.ts";
import { startsWithMarkerBlock } from "./marker-block.ts";

export function detectTextFormat(text: string, lines: readonly string[]): UserDataFormat {
  if (text.trim() === "") return "empty";
  // cloud-init looks at the very first bytes for these two.
  if (text.startsWith("#!")) return "shell";
  if (text.startsWith("#cloud-config")) return "cloud-config";
  if (text.trimStart().startsWith("{")) return "json";
  if (startsWithMarkerBlock(lines)) return "agent-document";
  return "plain";
}

/** The content type a non-MIME user_data would have as a part. */
export const CONTENT_TYPE: Record<UserDataFormat, string> = {
  mime: "multipart/mixed",
  shell: "text/x-shellscript",
  "cloud-config": "text/cloud-config",
  json: "application/json",
  "agent-document": "text/x-vacuum-agent",
  plain: "text/plain",
  empty: "text/plain",
  binary: "application/octet-stream",
};
