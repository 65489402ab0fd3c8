// Minting a 2048-bit RFC 3820 proxy (issue 5: 100 ms or less median in the compiled binary),
// against a peer measured in the same run: the same proxy made with openssl alone, the way
// grid-proxy-init/voms-proxy-init-like shell recipes do it (openssl req -newkey rsa:2048, then
// openssl x509 -req with proxyCertInfo). One file, three modes:
//   mint CERT KEY OUT        compiled into the benchmark binary: one mint per process, as the agent does
//   loop CERT KEY N          compiled too: N mints in one process (warm), and the parts' times
//   harness BINARY N         run by bun: makes a test CA and host certificate, times everything, prints Markdown
// Run through scripts/bench-proxy.sh, which compiles this file into a temp dir first.

import { spawnSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintProxy } from "../../src/credentials/mint-proxy.ts";

const [mode, ...args] = process.argv.slice(2);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length });
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function mintOnce(certPath: string, keyPath: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const minted = await mintProxy({ issuerCertPem: readFileSync(certPath, "utf8"), issuerKeyPem: readFileSync(keyPath, "utf8"), notAfter: now + 12 * 3600, now });
  return minted.pem;
}

function run(argv: string[], opts: { cwd?: string } = {}): number {
  const t = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", ...opts });
  const dt = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: exit ${r.status}: ${r.stderr}`);
  return dt;
}

if (mode === "mint") {
  const [cert, key, out] = args as [string, string, string];
  writeFileSync(out, await mintOnce(cert, key), { mode: 0o600 });
} else if (mode === "loop") {
  const [cert, key, n] = args as [string, string, string];
  const mint: number[] = [];
  const keygen: number[] = [];
  const signing: number[] = [];
  const forgeSigning: number[] = [];
  const hostKey = readFileSync(key, "utf8");
  const { default: forge } = await import("node-forge");
  const forgeKey = forge.pki.privateKeyFromPem(hostKey);
  for (let i = 0; i < Number(n); i++) {
    let t = performance.now();
    await mintOnce(cert, key);
    mint.push(performance.now() - t);
    t = performance.now();
    generateKeyPairSync("rsa", { modulusLength: 2048 });
    keygen.push(performance.now() - t);
    t = performance.now();
    sign("sha256", Buffer.alloc(700, 1), hostKey);
    signing.push(performance.now() - t);
    t = performance.now();
    const md = forge.md.sha256.create();
    md.update("x".repeat(700));
    forgeKey.sign(md);
    forgeSigning.push(performance.now() - t);
  }
  console.log(JSON.stringify({ mint, keygen, signing, forgeSigning }));
} else if (mode === "harness") {
  const [binary, n] = [args[0]!, Number(args[1] ?? 21)];
  const dir = mkdtempSync(join(tmpdir(), "bench-proxy-"));
  try {
    const o = (argv: string[]) => run(["openssl", ...argv], { cwd: dir });
    o(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/O=bench/CN=Bench CA", "-days", "30"]);
    o(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "host.key", "-out", "host.csr", "-subj", "/O=bench/CN=vm01.bench.example"]);
    writeFileSync(join(dir, "host.ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n");
    o(["x509", "-req", "-in", "host.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "1001", "-days", "10", "-extfile", "host.ext", "-out", "host.pem"]);
    writeFileSync(join(dir, "proxy.ext"), "keyUsage=critical,digitalSignature,keyEncipherment\nproxyCertInfo=critical,language:id-ppl-inheritAll\n");

    const cold: number[] = [];
    const peer: number[] = [];
    // Interleaved, so drift on a shared machine hits both sides alike.
    for (let i = 0; i < n; i++) {
      cold.push(run([binary, "mint", "host.pem", "host.key", `agent-${i}.pem`], { cwd: dir }));
      const serial = String(1_000_000 + i);
      peer.push(
        o(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", `peer-${i}.key`, "-out", `peer-${i}.csr`, "-subj", `/O=bench/CN=vm01.bench.example/CN=${serial}`]) +
          o(["x509", "-req", "-in", `peer-${i}.csr`, "-CA", "host.pem", "-CAkey", "host.key", "-set_serial", serial, "-days", "1", "-extfile", "proxy.ext", "-out", `peer-${i}.pem`]),
      );
    }
    const warm = JSON.parse(spawnSync(binary, ["loop", "host.pem", "host.key", String(n)], { cwd: dir, encoding: "utf8" }).stdout) as Record<"mint" | "keygen" | "signing" | "forgeSigning", number[]>;
    // Every proxy must verify, or the timing means nothing.
    for (let i = 0; i < n; i++) {
      for (const f of [`agent-${i}.pem`, `peer-${i}.pem`]) {
        const v = spawnSync("openssl", ["verify", "-allow_proxy_certs", "-CAfile", "ca.pem", "-untrusted", "host.pem", f], { cwd: dir, encoding: "utf8" });
        if (v.stdout.trim() !== `${f}: OK`) throw new Error(`${f} does not verify: ${v.stdout}${v.stderr}`);
      }
    }
    const version = spawnSync("openssl", ["version"], { encoding: "utf8" }).stdout.trim().split(" ").slice(0, 2).join(" ");
    const row = (what: string, xs: number[]) => {
      const s = stats(xs);
      return `| ${what} | ${ms(s.median)} | ${ms(s.min)} | ${ms(s.max)} | ${s.n} |`;
    };
    const c = stats(cold);
    console.log(
      [
        `# Proxy minting, ${new Date().toISOString().slice(0, 16)}Z, ${n} runs each (interleaved), ${spawnSync("nproc", { encoding: "utf8" }).stdout.trim()} cores`,
        "",
        "| 2048-bit RFC 3820 proxy (key pair + certificate + PEM file) | median | min | max | n |",
        "|---|---:|---:|---:|---:|",
        row("**agent** (bun-compiled binary): one mint per process, wall time incl. start-up and loading node-forge", cold),
        row("agent, in one process (warm): `mintProxy()`", warm.mint),
        row(`peer: \`openssl req -newkey rsa:2048\` + \`openssl x509 -req\` with proxyCertInfo (${version})`, peer),
        row("part: native RSA-2048 key generation in bun (`generateKeyPairSync`)", warm.keygen),
        row("part: native RSA-2048 SHA-256 signature in bun (what the agent signs with)", warm.signing),
        row("part, for comparison: node-forge's JavaScript RSA signature (`cert.sign`, not used)", warm.forgeSigning),
        "",
        `Target (issue 5): 100 ms or less median in the compiled binary: **${c.median <= 100 ? "met" : "missed"}** (${ms(c.median)}, bun ${process.versions.bun}).`,
        "Every proxy from both sides passed `openssl verify -allow_proxy_certs -CAfile ca.pem -untrusted host.pem`.",
        "RSA key generation dominates and varies with the primes found (hence min/max); compare figures from the same run.",
      ].join("\n"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  console.error("usage: proxy mint CERT KEY OUT | loop CERT KEY N | harness BINARY N");
  process.exit(64);
}
