// The file names of a server's directory listing (Apache mod_autoindex, nginx autoindex), for
// pilot directories published without checksums.sha512. Only links that resolve to a file
// directly inside the listed directory count: sort links (`?C=N;O=D`), "Parent Directory" and
// `../`, subdirectories, links to other hosts, schemes or paths, and anything with a query
// string or fragment are ignored, so the download never leaves the directory (wget
// --recursive --no-parent follows far more than that).

import { flatNameProblem } from "./file-name.ts";

const ANCHOR_HREF = /<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** The HTML character references autoindex pages use in attributes (`&amp;`, `&#39;`, `&#x2F;`). */
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/**
 * Names of the files the listing at `dirUrl` (ending in "/") links to, in page order, without
 * duplicates. Never throws: a page without usable links gives [].
 */
export function parseListing(html: string, dirUrl: string): string[] {
  let base: URL;
  try {
    base = new URL(dirUrl);
  } catch {
    return [];
  }
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  const names: string[] = [];
  const seen = new Set<string>();
  for (const m of html.matchAll(ANCHOR_HREF)) {
    const href = decodeEntities((m[1] ?? m[2] ?? m[3] ?? "").trim());
    const name = fileNameIn(href, base);
    if (name !== null && !seen.has(name)) {
      seen.add(name);
      names.push(name);
    }
  }
  return names;
}

/** The flat file name `href` points to inside the directory `base`, or null. */
function fileNameIn(href: string, base: URL): string | null {
  if (href === "" || href.includes("?") || href.includes("#")) return null;
  let target: URL;
  try {
    target = new URL(href, base);
  } catch {
    return null;
  }
  if (target.origin !== base.origin || target.protocol !== base.protocol) return null;
  if (target.username || target.password) return null;
  // Compare encoded paths: the WHATWG parser has already resolved "..", "./" and "%2e%2e".
  if (!target.pathname.startsWith(base.pathname)) return null;
  const rest = target.pathname.slice(base.pathname.length);
  if (rest === "" || rest.includes("/")) return null; // the directory itself, or a subdirectory
  let name: string;
  try {
    name = decodeURIComponent(rest);
  } catch {
    return null; // malformed percent-encoding
  }
  return flatNameProblem(name) === null ? name : null;
}
