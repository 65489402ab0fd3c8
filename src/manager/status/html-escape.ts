// Text into HTML, in element content and in quoted attribute values alike. Everything a VM sends
// (shutdown_message, space, host name, DN, stage names and errors) reaches the status page only
// through this.

const REFS: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export const esc = (v: unknown): string => String(v ?? "").replace(/[&<>"']/g, (c) => REFS[c]!);
