// Host preparation time of dist/agent (issue 5 target: 1 s or less, waits excluded): a run under
// --root with a host certificate (a proxy is minted from it), CVMFS configuration, a scratch
// directory, 8 payload accounts and the metadata lock-down, payload /bin/true. Per-stage durations
// come from the agent's own status.json. The peer, measured in the same run, is the same work
// done by a shell script the way today's VM bootstraps do it (files written, a proxy made by
// openssl commands; accounts and firewall recorded, not performed, as the agent does under --root).
// Run: node_modules/.bin/bun scripts/bench/host-prep.ts [runs]

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const runs = Number(process.argv[2] ?? 7);
const work = mkdtempSync(join(tmpdir(), "bench-host-prep-"));
const sh = (cmd: string) => execFileSync("bash", ["-c", cmd], { cwd: work, stdio: ["ignore", "pipe", "pipe"] });
// A CA and a host certificate, made once.
sh(`openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/O=bench/CN=bench CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout host.key -out host.csr -subj "/O=bench/CN=host.example" 2>/dev/null
openssl x509 -req -in host.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out host.pem -days 1 2>/dev/null`);
const cert = readFileSync(join(work, "host.pem"), "utf8").trim();
const key = readFileSync(join(work, "host.key"), "utf8").trim();
const ud = join(work, "ud");
writeFileSync(
  ud,
  [
    "-----BEGIN VACUUM-AGENT CONFIG-----",
    "version = 1",
    "user_data_machine_hostname = vm-bench.example.org",
    "user_data_option_cvmfs_proxy = http://squid.example:3128;DIRECT",
    "cvmfs.repositories = grid.cern.ch,lhcb.cern.ch",
    "scratch.device = none",
    "accounts.payload_users = 8",
    "lifecycle.max_wallclock_seconds = 86400",
    "user_data_option_hostcert <<E",
    cert,
    "E",
    "user_data_option_hostkey <<E",
    key,
    "E",
    "payload.type = command",
    "payload.command.path = /bin/true",
    "-----END VACUUM-AGENT CONFIG-----",
    "",
  ].join("\n"),
);

const PREP = ["hostname", "metadata-lockdown", "scratch-disk", "accounts", "mjf-environment", "credentials", "cvmfs", "cvmfs-ready"];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perStage = new Map<string, number[]>();
const prepTotals: number[] = [];
const wall: number[] = [];
for (let i = 0; i < runs; i++) {
  const root = mkdtempSync(join(work, "root-"));
  const t0 = performance.now();
  const r = spawnSync("dist/agent", ["run", "--root", root, "--user-data", ud, "--metadata-url", "none"], { stdio: "ignore" });
  wall.push(performance.now() - t0);
  if (r.status !== 0 && r.status !== 2) throw new Error(`agent exited ${r.status}`);
  const status = JSON.parse(readFileSync(join(root, "var/lib/vacuum-agent/status.json"), "utf8")) as { stages: { id: string; durationMs?: number }[] };
  let total = 0;
  for (const s of status.stages) {
    if (!PREP.includes(s.id)) continue;
    perStage.set(s.id, [...(perStage.get(s.id) ?? []), s.durationMs ?? 0]);
    total += s.durationMs ?? 0;
  }
  prepTotals.push(total);
  rmSync(root, { recursive: true, force: true });
}

// The peer: the same files and a proxy made by openssl, as a shell bootstrap would.
const peer: number[] = [];
for (let i = 0; i < runs; i++) {
  const root = mkdtempSync(join(work, "peer-"));
  const t0 = performance.now();
  sh(`set -e; R=${root}; mkdir -p $R/etc/grid-security $R/etc/cvmfs $R/scratch/home $R/etc/profile.d $R/var/lib/vacuum-agent
cp host.pem $R/etc/grid-security/hostcert.pem; install -m 0600 host.key $R/etc/grid-security/hostkey.pem
printf 'CVMFS_REPOSITORIES=grid.cern.ch,lhcb.cern.ch\\nCVMFS_HTTP_PROXY="http://squid.example:3128;DIRECT"\\n' > $R/etc/cvmfs/default.local
for n in 01 02 03 04 05 06 07 08; do echo "useradd vacpay$n" >> $R/var/lib/vacuum-agent/actions; mkdir -m 0700 $R/scratch/home/vacpay$n; done
echo "iptables -I OUTPUT -d 169.254.169.254 -j REJECT" >> $R/var/lib/vacuum-agent/actions
printf 'basicConstraints=CA:FALSE\\nkeyUsage=critical,digitalSignature,keyEncipherment\\nproxyCertInfo=critical,language:id-ppl-inheritAll\\n' > $R/ext.cnf
openssl req -newkey rsa:2048 -nodes -keyout $R/proxy.key -out $R/proxy.csr -subj "/O=bench/CN=host.example/CN=12345" 2>/dev/null
openssl x509 -req -in $R/proxy.csr -CA host.pem -CAkey host.key -set_serial 12345 -days 1 -extfile $R/ext.cnf -out $R/proxy.pem 2>/dev/null
cat $R/proxy.pem $R/proxy.key host.pem > $R/x509proxy.pem; chmod 0600 $R/x509proxy.pem`);
  peer.push(performance.now() - t0);
  rmSync(root, { recursive: true, force: true });
}
rmSync(work, { recursive: true, force: true });

console.log(`# Host preparation, ${new Date().toISOString().slice(0, 16)}Z, median of ${runs} runs\n`);
console.log("| what | median |\n|---|---:|");
for (const id of PREP) console.log(`| agent stage \`${id}\` | ${median(perStage.get(id) ?? [0])} ms |`);
console.log(`| **agent host preparation, all stages above (waits: none configured)** | **${median(prepTotals)} ms** |`);
console.log(`| agent whole run under --root (start-up, gather, every stage, payload /bin/true, finish) | ${median(wall).toFixed(0)} ms |`);
console.log(`| peer: the same files and an openssl-made proxy from a shell script | ${median(peer).toFixed(0)} ms |`);
