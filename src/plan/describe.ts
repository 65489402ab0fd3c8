// What `--dry-run` prints for each Action, and the JSON form for `--dry-run --json`. The switch is
// total over the Action union (the `never` default), so a new kind cannot be added without a
// dry-run line. Secrets are redacted here: secret file contents, secret env values, URL
// credentials, and anything that looks like a PEM block or a token.

import { isMachineWide, type Action, type Owner } from "./actions.ts";
import { isoSeconds } from "../contract/unix-time.ts";
import { describeReadiness } from "../cvmfs/readiness.ts";
import { shellQuote } from "../exec/shell-quote.ts";
import { redactUrlCredentials } from "../net/http-error.ts";

const REDACTED = "<redacted>";

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?(?:-----END \1-----|$)/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** Replace PEM blocks (keys, certificates, proxies), bearer/basic tokens, JWTs and URL credentials. */
export function redactSecrets(text: string): string {
  return redactUrlCredentials(
    text
      .replace(PEM_BLOCK, REDACTED)
      .replace(JWT, REDACTED)
      .replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`),
  );
}

export const secretPlaceholder = (contents: string): string =>
  `<secret: ${Buffer.byteLength(contents, "utf8")} bytes, redacted>`;

export const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;

const ownerText = (o: Owner | undefined): string => (o ? `, owner ${o.user}:${o.group}` : "");

const seconds = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

function redactedEnv(env: Record<string, string> | undefined, secret: readonly string[] | undefined): Record<string, string> | undefined {
  if (!env) return undefined;
  const hidden = new Set(secret ?? []);
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, hidden.has(k) ? secretPlaceholder(v) : redactSecrets(v)]),
  );
}

const envLines = (env: Record<string, string> | undefined): string[] =>
  Object.entries(env ?? {}).map(([k, v]) => `env ${k}=${v.includes("\n") ? JSON.stringify(v) : v}`);

function contentLines(contents: string): string[] {
  const body = contents.endsWith("\n") ? contents.slice(0, -1) : contents;
  const lines = body.split("\n").map((l) => `  | ${l}`);
  return contents.endsWith("\n") || contents === "" ? lines : [...lines, "  (no newline at end)"];
}

/** Human lines for one action: a summary first, then details, each a separate line. */
export function describeAction(a: Action): string[] {
  const lines = describeOne(a);
  // The first line is the action's summary (logged); the concurrency is said on the next one.
  return a.alongside ? [lines[0]!, "at the same time as the action before it", ...lines.slice(1)] : lines;
}

function describeOne(a: Action): string[] {
  const mw = isMachineWide(a) ? ["machine-wide: recorded, not performed, under --root"] : [];
  switch (a.kind) {
    case "mkdir":
      return [`mkdir ${a.path} (mode ${octal(a.mode)}${ownerText(a.owner)}): ${a.why}`];
    case "write-file": {
      const size = Buffer.byteLength(a.contents, "utf8");
      const head = `write-file ${a.path} (mode ${octal(a.mode)}${ownerText(a.owner)}, ${size} bytes): ${a.why}`;
      return a.secret ? [head, `  ${secretPlaceholder(a.contents)}`] : [head, ...contentLines(redactSecrets(a.contents))];
    }
    case "run-command": {
      const env = redactedEnv(a.env, a.secretEnv);
      return [
        `run-command ${redactSecrets(shellQuote(a.argv))}: ${a.why}`,
        `as ${a.user ?? "root"}, timeout ${seconds(a.timeoutMs)}${a.okCodes ? `, ok exit codes ${a.okCodes.join(",")}` : ""}${a.cwd ? `, in ${a.cwd}` : ""}`,
        ...envLines(env),
        ...mw,
      ];
    }
    case "run-payload": {
      const env = redactedEnv(a.env, a.secretEnv);
      const stop = a.stopAt === null ? "no deadline" : `SIGTERM at ${isoSeconds(a.stopAt)} (or earlier if the deadline moves), SIGKILL ${a.killGraceSeconds} s later`;
      return [
        `run-payload ${a.name}: ${redactSecrets(shellQuote(a.argv))}: ${a.why}`,
        `as ${a.user ?? "root"}${a.cwd ? `, in ${a.cwd}` : ""}; stdout > ${a.stdoutPath}, stderr > ${a.stderrPath}`,
        stop,
        ...(a.liveness ? [`ended if none of ${a.liveness.paths.join(", ")} grows for ${a.liveness.staleSeconds} s`] : []),
        ...(a.messageFile ? [`its own shutdown message, if any, from ${a.messageFile}`] : []),
        ...(a.ready ? [`ready when ${redactSecrets(shellQuote(a.ready.argv))} prints /${a.ready.expect}/ within ${a.ready.timeoutSeconds} s, else ${a.ready.failure.code} ${a.ready.failure.text}`] : []),
        ...(a.drain ?? []).map((d) => `${d.leadSeconds} s before the stop: ${d.do.kind === "create-file" ? `create ${d.do.path}` : redactSecrets(shellQuote(d.do.argv))} (${d.why})`),
        ...(a.outcome ? [`outcome from ${a.outcome.kind === "dirac-pilot-log" ? `the JobAgent lines of ${a.outcome.logPaths.join(", ")}` : `the startd history ${a.outcome.historyPath}`} and the exit status`] : []),
        ...envLines(env),
      ];
    }
    case "fetch":
      return [
        `fetch ${redactSecrets(a.url)} -> ${a.path} (mode ${octal(a.mode)}${ownerText(a.owner)}): ${a.why}`,
        `${a.sha256 ? `sha256 ${a.sha256}` : "sha256 not checked"}, timeout ${seconds(a.timeoutMs)}`,
      ];
    case "create-user":
      return [
        `create-user ${a.name} (${a.system ? "system" : "normal"} user, home ${a.home}, shell ${a.shell}${a.groups?.length ? `, groups ${a.groups.join(",")}` : ""}): ${a.why}`,
        ...mw,
      ];
    case "mount":
      return [
        `mount ${shellQuote(["-t", a.fstype, ...(a.options.length ? ["-o", a.options.join(",")] : []), a.device, a.target])}: ${a.why}`,
        ...mw,
      ];
    case "set-hostname":
      return [`set-hostname ${a.hostname}: ${a.why}`, ...mw];
    case "start-service": {
      const env = redactedEnv(a.env, undefined);
      return [
        `start-service ${a.name}: ${redactSecrets(shellQuote(a.argv))}: ${a.why}`,
        `as ${a.user ?? "root"}, detached`,
        ...envLines(env),
        ...mw,
      ];
    }
    case "firewall":
      return [`firewall iptables ${shellQuote(a.rule)}: ${a.why}`, ...mw];
    case "power-off":
      return [`power-off: ${a.why}`, ...mw];
    case "stage-joboutputs":
      return [`stage-joboutputs into ${a.spool} (each cut to ${a.maxBytes} bytes at most): ${a.why}`, ...a.files.map((f) => `${f.from} -> ${f.name}`)];
    case "upload-joboutputs":
      return [
        `upload-joboutputs ${a.spool}/* -> ${redactSecrets(a.to)}/ (${a.last.join(", ")} last): ${a.why}`,
        `budget ${seconds(a.budgetMs)}, ${seconds(a.perRequestTimeoutMs)} per request${a.to.startsWith("https://") ? `, CA directory ${a.caDir ?? "system"}, client certificate ${a.clientCertificate ?? "none"}` : ""}`,
      ];
    case "probe-cvmfs":
    case "wait-paths":
      return describeReadiness(a);
    case "mint-proxy":
      return [
        `mint-proxy ${a.path} (mode ${octal(a.mode)}${ownerText(a.owner)}) from ${a.certPath} and ${a.keyPath}: ${a.why}`,
        `RFC 3820, RSA-2048, valid until ${isoSeconds(a.notAfter)} or the host certificate's end`,
      ];
    case "fetch-pilot":
      return [
        `fetch-pilot ${a.urls.map(redactSecrets).join(" | ")} -> ${a.dir}${ownerText(a.owner)}: ${a.why}`,
        `${a.requireManifest ? "only the files checksums.sha512 lists" : "the files checksums.sha512 lists, else the directory listing"}${a.manifestSha512 ? `, checksums.sha512 pinned to sha512 ${a.manifestSha512.slice(0, 16)}…` : ""}; ${a.concurrency} at a time, ${a.retries} retries, timeout ${seconds(a.timeoutMs)}`,
        ...(a.tls.caDir || a.tls.certPath ? [`CA directory ${a.tls.caDir ?? "system"}, client certificate ${a.tls.certPath ?? "none"}`] : []),
      ];
    case "check-pilot-json":
      return [`check-pilot-json ${a.path} for CE ${a.ce}, queue ${a.queue}${a.vo ? `, VO ${a.vo}` : ""}${a.setup ? `, setup ${a.setup}` : ""}${a.site ? `, site ${a.site}` : ""}: ${a.why}`];
    case "run-pilot-hooks":
      return [`run-pilot-hooks ${a.dir}/include_vm_*.sh (only those checksums.sha512 verified; as root, ${a.timeoutSeconds} s each): ${a.why}`, ...envLines(redactedEnv(a.env, undefined)), ...mw];
    case "start-watchdog":
      return [`start-watchdog at ${isoSeconds(a.at)}: ${a.why}`, `writes "${a.message}" if no shutdown_message exists, then powers off (recorded under --root)`];
    default: {
      const unknown: never = a;
      throw new Error(`no dry-run description for action ${JSON.stringify(unknown)}`);
    }
  }
}

/** The action as JSON for `--dry-run --json` and machine-actions.jsonl, with the same redaction. */
export function actionToJson(a: Action): Record<string, unknown> {
  const json: Record<string, unknown> = { ...a, machineWide: isMachineWide(a) };
  switch (a.kind) {
    case "write-file":
      json.contents = a.secret ? secretPlaceholder(a.contents) : redactSecrets(a.contents);
      json.modeOctal = octal(a.mode);
      break;
    case "run-command":
      json.argv = a.argv.map(redactSecrets);
      if (a.env) json.env = redactedEnv(a.env, a.secretEnv);
      break;
    case "start-service":
      json.argv = a.argv.map(redactSecrets);
      if (a.env) json.env = redactedEnv(a.env, undefined);
      break;
    case "run-payload":
      json.argv = a.argv.map(redactSecrets);
      if (a.env) json.env = redactedEnv(a.env, a.secretEnv);
      break;
    case "fetch":
      json.url = redactSecrets(a.url);
      json.modeOctal = octal(a.mode);
      break;
    case "mkdir":
      json.modeOctal = octal(a.mode);
      break;
    case "fetch-pilot":
      json.urls = a.urls.map(redactSecrets);
      break;
    case "run-pilot-hooks":
      json.env = redactedEnv(a.env, undefined);
      break;
    case "check-pilot-json":
    case "create-user":
    case "mount":
    case "set-hostname":
    case "firewall":
    case "power-off":
    case "start-watchdog":
    case "stage-joboutputs":
    case "probe-cvmfs":
    case "wait-paths":
      break;
    case "mint-proxy":
      json.modeOctal = octal(a.mode);
      break;
    case "upload-joboutputs":
      json.to = redactSecrets(a.to);
      break;
    default: {
      const unknown: never = a;
      throw new Error(`no JSON form for action ${JSON.stringify(unknown)}`);
    }
  }
  return json;
}
