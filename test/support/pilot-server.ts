// A DIRAC pilot file server for tests and benchmarks: real HTTPS (node:https, certificates from
// tls-fixtures.ts, optionally requiring a client certificate) serving one pilot directory the way
// DIRAC's publisher lays it out (pilots.md section 4): the files, `pilot.tar` of the .py files,
// `checksums.sha512` in sha512sum format (sorted, covering pilot.tar and every file), and an
// Apache mod_autoindex or nginx autoindex page for the directory itself.
// Faults: tampered files (for the first N requests, or always), missing files (404), 500s for the
// first N requests, slow files, a replacement manifest, extra (hostile) links in the listing.
// It counts TCP connections, so tests can prove keep-alive.

import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";

export interface PilotFaults {
  /** name → how many requests get altered bytes (Infinity: all). */
  tampered?: Record<string, number>;
  /** Names answered with 404 although published (listed in the manifest and the listing). */
  missing?: string[];
  /** name → how many requests get HTTP 500 first. Also "" for the directory listing. */
  errors?: Record<string, number>;
  /** name → milliseconds before the answer starts. */
  slowMs?: Record<string, number>;
  /** Served as checksums.sha512 instead of the real manifest. */
  manifestText?: string;
  /** Extra href values on the listing page. */
  extraHrefs?: string[];
}

export interface PilotServerOptions {
  tls: { ca: string; cert: string; key: string; requestCert?: boolean };
  /** The published files, by name (checksums.sha512 and pilot.tar are added unless disabled). */
  files: Record<string, string | Uint8Array>;
  /** The directory's path; default "/pilot/". */
  base?: string;
  /** Publish checksums.sha512; default true. */
  manifest?: boolean;
  /** Publish pilot.tar of the *.py files and list it in the manifest; default true. */
  tar?: boolean;
  /** Style of the directory listing page, or none (403 like `Options -Indexes`); default "apache". */
  listing?: "apache" | "nginx" | "none";
  faults?: PilotFaults;
  /** Files served outside the directory, by absolute path (to see whether a client wanders off). */
  outside?: Record<string, string>;
}

export interface PilotRequest {
  path: string;
  status: number;
  /** The client certificate's CN, when one was presented (Node only). */
  clientCn: string | null;
  authorization: string | null;
}

export interface PilotServer {
  /** The directory URL, ending in "/". */
  url: string;
  port: number;
  /** Everything published in the directory, manifest and tar included. */
  published: Map<string, Buffer>;
  /** SHA-512 (hex) of the published checksums.sha512. */
  manifestSha512: string;
  requests: PilotRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  setFaults(faults: PilotFaults): void;
  close(): Promise<void>;
}

const sha512 = (data: Uint8Array) => createHash("sha512").update(data).digest("hex");

// --- tar (ustar, as Python's tarfile writes short ASCII names) ----------------------------------

export interface TarEntrySpec {
  name: string;
  data?: Uint8Array | string;
  /** ustar type flag: "0" file, "1" hard link, "2" symlink, "3"/"4" devices, "5" directory, "6" FIFO. */
  type?: string;
  linkname?: string;
  /** ustar prefix field (for long or nested names). */
  prefix?: string;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function tarHeader(e: TarEntrySpec, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100, "utf8");
  h.write(octal(e.type === "5" ? 0o755 : 0o644, 8), 100, "ascii");
  h.write(octal(1000, 8), 108, "ascii");
  h.write(octal(1000, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(1_700_000_000, 12), 136, "ascii");
  h.fill(0x20, 148, 156);
  h.write(e.type ?? "0", 156, "ascii");
  h.write(e.linkname ?? "", 157, 100, "utf8");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write("user", 265, "ascii");
  h.write("user", 297, "ascii");
  if (e.prefix) h.write(e.prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return h;
}

/** A tar archive of `entries`, ended by two zero blocks and padded to 10240 bytes like tarfile's. */
export function makeTar(entries: TarEntrySpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? "");
    // Content for files and for PAX/GNU extension records; none for links, devices, directories.
    const size = ["0", "x", "g", "L"].includes(e.type ?? "0") ? data.length : 0;
    parts.push(tarHeader(e, size));
    if (size > 0) {
      parts.push(data);
      parts.push(Buffer.alloc((512 - (size % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, Buffer.alloc((10240 - (body.length % 10240)) % 10240)]);
}

// --- the published directory ---------------------------------------------------------------------

/** What DIRAC's publisher writes: the files, pilot.tar of the .py files, checksums.sha512 of all. */
export function publishDirectory(files: Record<string, string | Uint8Array>, o: { manifest: boolean; tar: boolean }): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [name, content] of Object.entries(files)) out.set(name, Buffer.from(content));
  if (o.tar) {
    const py = [...out.keys()].filter((n) => n.endsWith(".py")).sort();
    out.set("pilot.tar", makeTar(py.map((name) => ({ name, data: out.get(name)! }))));
  }
  if (o.manifest) out.set("checksums.sha512", Buffer.from(manifestText(out)));
  return out;
}

/** sha512sum's output for every file, sorted by name. */
export function manifestText(files: Map<string, Buffer>): string {
  return [...files.keys()]
    .filter((n) => n !== "checksums.sha512")
    .sort()
    .map((n) => `${sha512(files.get(n)!)}  ${n}\n`)
    .join("");
}

const decoded = (href: string) => {
  try {
    return decodeURIComponent(href);
  } catch {
    return href;
  }
};

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const DATE = "2024-05-14 09:12";

/** Apache 2.4 mod_autoindex with FancyIndexing and HTMLTable, as Debian's default configuration serves it. */
export function apacheListing(path: string, entries: { href: string; size: number | null }[]): string {
  const rows = entries
    .map(({ href, size }) => {
      const text = escapeHtml(decoded(href));
      const sizeText = size === null ? "  - " : size < 1024 ? `${size} ` : `${(size / 1024).toFixed(0)}K`;
      const icon = href.endsWith("/") ? `<img src="/icons/folder.gif" alt="[DIR]">` : `<img src="/icons/unknown.gif" alt="[   ]">`;
      return `<tr><td valign="top">${icon}</td><td><a href="${escapeHtml(href)}">${text}</a></td><td align="right">${DATE}  </td><td align="right">${sizeText}</td><td>&nbsp;</td></tr>`;
    })
    .join("\n");
  const title = path.replace(/\/$/, "") || "/";
  const parent = path.replace(/[^/]+\/$/, "");
  return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of ${escapeHtml(title)}</title>
 </head>
 <body>
<h1>Index of ${escapeHtml(title)}</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="${escapeHtml(parent)}">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>
${rows}
   <tr><th colspan="5"><hr></th></tr>
</table>
<address>Apache/2.4.62 (Debian) Server at 127.0.0.1 Port 443</address>
</body></html>
`;
}

/** nginx autoindex (`autoindex on;`): a <pre> block, "../" first, names cut at 50 characters. */
export function nginxListing(path: string, entries: { href: string; size: number | null }[]): string {
  const rows = entries
    .map(({ href, size }) => {
      const name = decoded(href);
      const shown = name.length > 50 ? `${name.slice(0, 47)}..&gt;` : escapeHtml(name);
      const pad = " ".repeat(Math.max(1, 51 - Math.min(name.length, 50)));
      const sizeText = (size === null ? "-" : String(size)).padStart(20);
      return `<a href="${escapeHtml(href)}">${shown}</a>${pad}14-May-2024 09:12${sizeText}`;
    })
    .join("\n");
  return `<html>
<head><title>Index of ${escapeHtml(path)}</title></head>
<body>
<h1>Index of ${escapeHtml(path)}</h1><hr><pre><a href="../">../</a>
${rows}
</pre><hr></body>
</html>
`;
}

function tamper(data: Buffer): Buffer {
  const copy = Buffer.from(data);
  if (copy.length === 0) return Buffer.from("#");
  copy[copy.length - 1] = copy[copy.length - 1]! ^ 0x01;
  return copy;
}

export async function startPilotServer(o: PilotServerOptions): Promise<PilotServer> {
  const base = o.base ?? "/pilot/";
  const published = publishDirectory(o.files, { manifest: o.manifest ?? true, tar: o.tar ?? true });
  let faults: PilotFaults = o.faults ?? {};
  const counts = new Map<string, number>();
  const requests: PilotRequest[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();

  const listingPage = () => {
    const entries = [...published.keys()].sort().map((n) => ({ href: encodeURIComponent(n), size: published.get(n)!.length }));
    const extra = (faults.extraHrefs ?? []).map((href) => ({ href, size: null }));
    const all = [...extra, ...entries];
    return o.listing === "nginx" ? nginxListing(base, all) : apacheListing(base, all);
  };

  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const cert = (req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } }).getPeerCertificate?.();
    const send = (status: number, body: string | Buffer, type = "application/octet-stream") => {
      requests.push({ path: req.url ?? "/", status, clientCn: cert?.subject?.CN ?? null, authorization: req.headers.authorization ?? null });
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "");
    if (o.outside && path in o.outside) return send(200, o.outside[path]!);
    if (!path.startsWith(base)) return send(404, "not found\n", "text/plain");
    let name: string;
    try {
      name = decodeURIComponent(path.slice(base.length));
    } catch {
      return send(400, "bad request\n", "text/plain");
    }
    const seen = (counts.get(name) ?? 0) + 1;
    counts.set(name, seen);
    if (seen <= (faults.errors?.[name] ?? 0)) return send(500, "<h1>500 Internal Server Error</h1>\n", "text/html");
    if (name === "") {
      if (o.listing === "none") return send(403, "<h1>Forbidden</h1>\n", "text/html");
      return send(200, listingPage(), "text/html;charset=UTF-8");
    }
    if (faults.missing?.includes(name)) return send(404, "<h1>Not Found</h1>\n", "text/html");
    let data = name === "checksums.sha512" && faults.manifestText !== undefined ? Buffer.from(faults.manifestText) : published.get(name);
    if (!data) return send(404, "<h1>Not Found</h1>\n", "text/html");
    if (seen <= (faults.tampered?.[name] ?? 0)) data = tamper(data);
    send(200, data);
  };

  const server = createServer(
    {
      ca: o.tls.ca,
      cert: o.tls.cert,
      key: o.tls.key,
      requestCert: o.tls.requestCert ?? false,
      rejectUnauthorized: o.tls.requestCert ?? false,
      keepAliveTimeout: 30_000,
    },
    (req, res) => {
      const path = (req.url ?? "/").split("?")[0]!;
      let name = path.slice(base.length);
      try {
        name = decodeURIComponent(name);
      } catch {
        // answered as 400 below
      }
      const delay = path.startsWith(base) ? (faults.slowMs?.[name] ?? 0) : 0;
      if (delay > 0) setTimeout(() => answer(req, res), delay);
      else answer(req, res);
    },
  );
  server.on("connection", (s: Socket) => {
    connections += 1;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}${base}`,
    port,
    published,
    manifestSha512: sha512(published.get("checksums.sha512") ?? Buffer.alloc(0)),
    requests,
    connections: () => connections,
    setFaults: (f) => {
      faults = f;
      counts.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
