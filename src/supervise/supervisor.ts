// The supervisor: what runs beside the stages while the agent lives. It owns the one stop request
// (a signal, a preemption notice) and the moving deadline, hands both to the payload through a
// PayloadControl, and starts and stops the background services (heartbeat, MJF deadline watch,
// preemption watch) so that none outlives the run.

import type { LogSink } from "../status/log.ts";
import type { PayloadControl } from "./payload-process.ts";
import { installStopSignals } from "./signals.ts";

export interface Service {
  name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface Supervisor {
  control: PayloadControl;
  /** Ask the payload and the remaining stages to stop; the first reason wins. */
  requestStop(reason: string): void;
  stopRequested(): string | null;
  /** A new effective deadline (Unix seconds); the payload is stopped by it. */
  setStopAt(effective: number | null, why: string): void;
  add(service: Service): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  stopAt: number | null;
  log: LogSink;
  /** Grace between SIGTERM and SIGKILL once a stop was requested: short, the host waits 30 s at most. */
  stopGraceSeconds: number;
  /** Install SIGTERM/SIGINT handlers (the compiled agent does; unit tests do not). */
  signals: boolean;
}

export function createSupervisor(o: SupervisorOptions): Supervisor {
  const ac = new AbortController();
  let stopAt = o.stopAt;
  const services: Service[] = [];
  let uninstall: (() => void) | null = null;
  const requestStop = (reason: string) => {
    if (ac.signal.aborted) return;
    o.log.warn(`stop requested: ${reason}`);
    ac.abort(reason);
  };
  return {
    control: {
      stop: ac.signal,
      stopAt: () => stopAt,
      graceSeconds: () => (ac.signal.aborted ? o.stopGraceSeconds : null),
    },
    requestStop,
    stopRequested: () => (ac.signal.aborted ? String(ac.signal.reason) : null),
    setStopAt(effective, why) {
      if (effective === stopAt) return;
      o.log.warn(`deadline moved: the payload is now stopped at ${effective === null ? "no deadline" : new Date(effective * 1000).toISOString()} (${why})`);
      stopAt = effective;
    },
    add: (s) => services.push(s),
    async start() {
      if (o.signals) {
        uninstall = installStopSignals((name) => requestStop(`${name} received (ACPI power button or host shutdown)`));
      }
      for (const s of services) {
        try {
          await s.start();
        } catch (err) {
          o.log.warn(`${s.name} did not start: ${(err as Error).message}`);
        }
      }
    },
    async stop() {
      for (const s of [...services].reverse()) {
        try {
          await s.stop();
        } catch (err) {
          o.log.warn(`${s.name} did not stop cleanly: ${(err as Error).message}`);
        }
      }
      // The handlers stay: a signal during the finish must not kill the agent before its upload.
      void uninstall;
    },
  };
}
