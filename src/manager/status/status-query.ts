// The status page's query string: the filters (machinetype, state), how many VMs to list and how
// often the page reloads itself. Every link and form on the page is built from it, so a filter
// stays in the URL while the page refreshes and while the other filter changes. An empty value
// (the form's "all") is no filter.

export interface StatusQuery {
  machinetype: string | null;
  state: string | null;
  limit: number;
  /** Seconds between reloads of the HTML page; 0: never. */
  refresh: number;
}

export const DEFAULT_LIMIT = 500;
export const MAX_LIMIT = 10_000;
export const DEFAULT_REFRESH = 30;
const MIN_REFRESH = 5;
const MAX_REFRESH = 3600;

const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.trunc(n)));

export function parseStatusQuery(params: URLSearchParams): StatusQuery {
  const text = (name: string): string | null => {
    const v = params.get(name);
    return v === null || v === "" ? null : v.slice(0, 200);
  };
  const limit = Number(params.get("limit"));
  const refreshText = params.get("refresh");
  const refresh = refreshText === null || refreshText === "" || !Number.isFinite(Number(refreshText)) ? DEFAULT_REFRESH : Number(refreshText);
  return {
    machinetype: text("machinetype"),
    state: text("state"),
    limit: Number.isFinite(limit) && limit >= 1 ? clamp(limit, 1, MAX_LIMIT) : DEFAULT_LIMIT,
    refresh: refresh <= 0 ? 0 : clamp(refresh, MIN_REFRESH, MAX_REFRESH),
  };
}

/** The query string of `q` with `change` applied: "" when everything is the default. */
export function queryString(q: StatusQuery, change: Partial<StatusQuery> = {}): string {
  const n = { ...q, ...change };
  const p = new URLSearchParams();
  if (n.machinetype !== null) p.set("machinetype", n.machinetype);
  if (n.state !== null) p.set("state", n.state);
  if (n.limit !== DEFAULT_LIMIT) p.set("limit", String(n.limit));
  if (n.refresh !== DEFAULT_REFRESH) p.set("refresh", String(n.refresh));
  const s = p.toString();
  return s ? `?${s}` : "";
}
