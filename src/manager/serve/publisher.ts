// Holds what `manager serve` publishes and replaces it on reload: the definition is read and checked
// again, and the new content is swapped in with one assignment, only when it validates. Otherwise
// every problem is logged and the last good content stays. Reloads run one at a time; a reload asked
// for while one runs is done once after it, so the file's latest state always wins.

import { formatPipeProblem, pipeHasErrors, type PipeProblem } from "../../contract/pipe.ts";
import { loadDefinition } from "../definition-file.ts";
import { buildContent, EMPTY_CONTENT, type Content } from "./content.ts";

export interface ReloadOutcome {
  /** True when the new content is now served. */
  swapped: boolean;
  problems: PipeProblem[];
}

export interface Publisher {
  /** The content served now. */
  current(): Content;
  /** Re-read and check the definition; swap only when it validates. */
  reload(): Promise<ReloadOutcome>;
  /** Reloads so far, by outcome (the first load included). */
  reloads(): { ok: number; refused: number };
}

export interface PublisherOptions {
  /** The definition file (its templates are relative to it). */
  file: string;
  log?: (line: string) => void;
  now?: () => Date;
}

export function createPublisher(options: PublisherOptions): Publisher {
  const { file, log = () => {}, now = () => new Date() } = options;
  let content: Content = EMPTY_CONTENT;
  let loaded = false;
  let running: Promise<ReloadOutcome> | null = null;
  let queued: Promise<ReloadOutcome> | null = null;
  const counts = { ok: 0, refused: 0 };

  async function once(): Promise<ReloadOutcome> {
    const definition = await loadDefinition(file);
    const problems = definition.problems;
    for (const p of problems) log(`${file}: ${formatPipeProblem(p)}`);
    if (pipeHasErrors(problems) || !definition.definition) {
      counts.refused++;
      log(`${file}: invalid definition: ${loaded ? "still serving the last good one" : "nothing to serve"}`);
      return { swapped: false, problems };
    }
    content = buildContent(definition, now(), content);
    loaded = true;
    counts.ok++;
    log(`${file}: serving ${definition.pipes.length} pipe(s) and ${definition.templates.length} template(s): ${content.paths.join(" ")}`);
    return { swapped: true, problems };
  }

  function reload(): Promise<ReloadOutcome> {
    if (!running) {
      running = once().finally(() => (running = null));
      return running;
    }
    // One reload is already running: queue a single follow-up that all later callers share.
    queued ??= running.catch(() => undefined).then(() => {
      queued = null;
      return reload();
    });
    return queued;
  }

  return { current: () => content, reload, reloads: () => ({ ...counts }) };
}
