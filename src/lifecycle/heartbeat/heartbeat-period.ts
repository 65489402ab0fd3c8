// How often to beat: at least twice per `heartbeat_seconds` (the age at which Vac and Vcycle call
// the VM dead) and at least every 300 s (vacuum-platform.md 4.2), but not more often than every
// 30 s, which would only load the host's receiver (config rules warn below 60 s).

export const MAX_PERIOD_SECONDS = 300;
export const MIN_PERIOD_SECONDS = 30;

export function heartbeatPeriodSeconds(heartbeatSeconds?: number | null): number {
  if (heartbeatSeconds === undefined || heartbeatSeconds === null || !Number.isFinite(heartbeatSeconds) || heartbeatSeconds <= 0) {
    return MAX_PERIOD_SECONDS;
  }
  return Math.max(MIN_PERIOD_SECONDS, Math.min(MAX_PERIOD_SECONDS, Math.floor(heartbeatSeconds / 2)));
}
