// Durations as an operator reads them on the status page: the age of a heartbeat ("4 min",
// "2 h 5 min", "3 d 2 h") and a stage's duration ("850 ms", "1.2 s", "3 min 20 s"). Two units at
// most: the page is for a glance, status.json has the exact numbers.

/** Whole seconds, as an age. */
export function ageText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return pair(Math.floor(s / 3600), "h", Math.floor((s % 3600) / 60), "min");
  return pair(Math.floor(s / 86400), "d", Math.floor((s % 86400) / 3600), "h");
}

/** Milliseconds, as a stage's duration. */
export function durationText(ms: number): string {
  const m = Math.max(0, ms);
  if (m < 1000) return `${Math.round(m)} ms`;
  if (m < 10_000) return `${(m / 1000).toFixed(1)} s`;
  if (m < 60_000) return `${Math.round(m / 1000)} s`;
  const s = Math.round(m / 1000);
  if (s < 3600) return pair(Math.floor(s / 60), "min", s % 60, "s");
  return pair(Math.floor(s / 3600), "h", Math.floor((s % 3600) / 60), "min");
}

const pair = (a: number, au: string, b: number, bu: string): string => (b === 0 ? `${a} ${au}` : `${a} ${au} ${b} ${bu}`);
