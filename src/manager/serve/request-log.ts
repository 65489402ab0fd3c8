// The request log, written in batches: the lines of one event-loop turn (at most `maxLines`) go
// out in one call, so one write(2) instead of one per request. At 40,000 heartbeats a second the
// per-line write was a fifth of the manager's CPU (scripts/bench-manager.sh). A line waits at most
// until the end of the turn that produced it, so the log still reads in order and in real time.

export interface RequestLog {
  add(line: string): void;
  /** Writes what is pending now. */
  flush(): void;
}

export function batchedLog(writeLines: (lines: readonly string[]) => void, maxLines = 512): RequestLog {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    writeLines(lines);
  };
  return {
    add(line) {
      pending.push(line);
      if (pending.length >= maxLines) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
