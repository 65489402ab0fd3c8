// Reload on change, besides SIGHUP: the definition file, its templates and its pilot directories
// are watched through their directories (editors and `mv` replace a file by renaming another over
// it, which a watch on the file itself would miss), and a burst of events becomes one reload after
// a short quiet time. The publisher swaps the new content in only when it validates, and logs why
// not otherwise. The watched set follows the content: a template added by an edit is watched from
// the next reload on.

import { statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Publisher } from "./publisher.ts";

export interface WatchOptions {
  /** The definition file. */
  file: string;
  publisher: Publisher;
  log: (line: string) => void;
  /** Quiet time before a reload; default 300 ms. */
  debounceMs?: number;
}

export interface DefinitionWatch {
  close(): void;
}

export function watchDefinition(o: WatchOptions): DefinitionWatch {
  const debounce = o.debounceMs ?? 300;
  const watchers = new Map<string, FSWatcher>();
  /** Directory -> names in it that matter ("*" for a watched directory itself). */
  let interest = new Map<string, Set<string>>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (closed) return;
      o.log("the definition or a file it names changed: reloading");
      o.publisher
        .reload()
        .then(() => rewatch())
        .catch((err: unknown) => o.log(`reload failed: ${(err as Error).message}; still serving the last good definition`));
    }, debounce);
    timer.unref?.();
  }

  function rewatch(): void {
    if (closed) return;
    const next = new Map<string, Set<string>>();
    const add = (dir: string, name: string) => {
      const set = next.get(dir) ?? new Set<string>();
      set.add(name);
      next.set(dir, set);
    };
    const file = resolve(o.file);
    add(dirname(file), basename(file));
    for (const source of o.publisher.current().sources) {
      // A pilot directory's own events name its files; a template's, the template's name.
      add(dirname(source), basename(source));
      if (isDirectory(source)) add(source, "*");
    }
    interest = next;
    for (const [dir, w] of watchers) {
      if (!next.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    }
    for (const dir of next.keys()) {
      if (watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          const names = interest.get(dir);
          if (!names) return;
          // Without a name (some platforms) any event in the directory counts.
          if (names.has("*") || name === null || names.has(String(name))) schedule();
        });
        w.on("error", () => {
          w.close();
          watchers.delete(dir);
        });
        watchers.set(dir, w);
      } catch {
        // A directory that is gone: its parent is watched, and the next reload says what is missing.
      }
    }
  }

  rewatch();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
