/** Unix seconds as the ISO 8601 text every message and dry-run line uses: 2026-11-22T05:00:00Z. */
export const isoSeconds = (unix: number): string => new Date(unix * 1000).toISOString().replace(".000Z", "Z");
