// Test helper: a clock whose time moves only when the test says so. Timers fire in time order;
// between them every pending promise callback runs, so async work started by a timer (a beat,
// a fake PUT that "takes" fake time) completes before the clock moves on.

export interface FakeClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** A sleep on this clock. */
  sleep(ms: number): Promise<void>;
  /** Timers not yet fired. */
  pending(): number;
  advance(ms: number): Promise<void>;
}

export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export function fakeClock(start = 1_700_000_000_000): FakeClock {
  let t = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const setTimer = (fn: () => void, ms: number) => {
    const id = ++seq;
    timers.set(id, { at: t + Math.max(0, ms), fn });
    return id;
  };
  return {
    now: () => t,
    setTimer,
    clearTimer: (h) => void timers.delete(h as number),
    sleep: (ms) => new Promise<void>((resolve) => setTimer(resolve, ms)),
    pending: () => timers.size,
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        await settle();
        let next: [number, { at: number; fn: () => void }] | null = null;
        for (const entry of timers) if (entry[1].at <= end && (next === null || entry[1].at < next[1].at)) next = entry;
        if (next === null) break;
        timers.delete(next[0]);
        t = next[1].at;
        next[1].fn();
      }
      t = end;
      await settle();
    },
  };
}
