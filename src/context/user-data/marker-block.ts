// The agent document embedded in any text (a shell script, a cloud-config, plain text) between
// two marker lines. In a shell script authors wrap it in a no-op heredoc
// (`: <<'VACUUM_AGENT_CONFIG'` ... `VACUUM_AGENT_CONFIG`) so the shell skips it.

export const BEGIN_MARKER = "-----BEGIN VACUUM-AGENT CONFIG-----";
export const END_MARKER = "-----END VACUUM-AGENT CONFIG-----";

export interface MarkerBlock {
  /** 0-based index of the BEGIN line. */
  begin: number;
  /** 0-based index of the END line, or null when the block never ends. */
  end: number | null;
}

const isMarker = (line: string, marker: string): boolean => line.includes(marker) && line.trim() === marker;

export function findMarkerBlocks(lines: readonly string[]): MarkerBlock[] {
  const blocks: MarkerBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!isMarker(lines[i]!, BEGIN_MARKER)) continue;
    let end: number | null = null;
    for (let j = i + 1; j < lines.length; j++) {
      if (isMarker(lines[j]!, END_MARKER)) {
        end = j;
        break;
      }
    }
    blocks.push({ begin: i, end });
    if (end === null) break;
    i = end;
  }
  return blocks;
}

/** The first non-blank line is the BEGIN marker: the whole user_data is one document block. */
export function startsWithMarkerBlock(lines: readonly string[]): boolean {
  const first = lines.find((l) => l.trim() !== "");
  return first !== undefined && isMarker(first, BEGIN_MARKER);
}
