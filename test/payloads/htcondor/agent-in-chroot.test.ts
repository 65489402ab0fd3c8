// The compiled agent (dist/agent) as an HTCondor execute node, end to end: copied into the trixie
// chroot that holds a real pool (test/support/htcondor-pool.ts) and run there with
// `agent run --root DIR --metadata-url none --user-data FILE` (payload.type = htcondor). It writes
// its configuration, starts condor_master, waits for the slot, a vanilla job runs on it, the idle
// shutdown ends the master and the VM's shutdown_message says 200.

import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AGENT_BINARY, hasAgentBinary } from "../../blackbox/run-binary.ts";
import { HTCONDOR_CHROOT_SCRIPT, poolForSuite, prepareHtcondorChroot, stopGroup, type Pool } from "../../support/htcondor-pool.ts";

const prepared = hasAgentBinary() ? prepareHtcondorChroot() : { chroot: null, skip: "no dist/agent (bash scripts/build.sh x64)" };
if (prepared.skip !== null) console.warn(`test/payloads/htcondor/agent-in-chroot.test.ts skipped: ${prepared.skip}`);

describe.skipIf(prepared.skip !== null)("dist/agent inside the HTCondor chroot joins a real pool", () => {
  let pool: Pool;
  poolForSuite(() => prepared.chroot!, (p) => (pool = p));

  it("runs a job on its slot and ends with 200 from the startd history", async () => {
    const vm = pool.vm("agent");
    const uuid = `bb-${pool.id}`;
    const token = pool.token();
    // Under --root the executor takes owners from DIR/etc/passwd: the image's accounts (condor).
    mkdirSync(join(vm.host, "root", "etc"), { recursive: true });
    for (const f of ["passwd", "group"]) copyFileSync(join(pool.chroot.dir, "etc", f), join(vm.host, "root", "etc", f));
    copyFileSync(AGENT_BINARY, join(vm.host, "agent"));
    const doc = [
      "version = 1",
      `user_data_uuid = ${uuid}`,
      "user_data_space = vac01.example.org",
      "user_data_machinetype = condor-test",
      `user_data_option_condor_host = ${pool.collector}`,
      `user_data_option_uid_domain = vacuum.test`,
      // A multi-line option in Vac's templates (a token may be wrapped): the heredoc form.
      "user_data_option_condor_idtoken <<END_OF_TOKEN",
      token,
      "END_OF_TOKEN",
      "lifecycle.power_off = false",
      "payload.type = htcondor",
      "payload.htcondor.idle_shutdown_seconds = 20",
      "payload.htcondor.update_interval_seconds = 10",
      "payload.htcondor.ready_timeout_seconds = 60",
      // Only because the pool's central manager shares this host (services.md pitfalls 3, 10).
      "payload.htcondor.extra_config[] = NETWORK_INTERFACE = 127.0.0.1",
      "payload.htcondor.extra_config[] = ENABLE_IPV6 = False",
      "payload.htcondor.extra_config[] = SEC_USE_FAMILY_SESSION = False",
    ];
    writeFileSync(join(vm.host, "user_data"), `-----BEGIN VACUUM-AGENT CONFIG-----\n${doc.join("\n")}\n-----END VACUUM-AGENT CONFIG-----\n`);
    const t0 = Date.now();
    const agent = spawn("sh", [HTCONDOR_CHROOT_SCRIPT, "prun", `${vm.inner}/agent`, "run", "--root", `${vm.inner}/root`, "--metadata-url", "none", "--user-data", `${vm.inner}/user_data`], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    agent.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    agent.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => agent.once("exit", (code) => r(code)));
    try {
      let slot = "";
      while (!slot && Date.now() - t0 < 60_000 && agent.exitCode === null) {
        slot = pool.tool(["condor_status", "-constraint", `VacuumVmId == "${uuid}"`, "-af", "AuthenticationMethod", "VacuumSpace"]).stdout.trim();
        if (!slot) await new Promise((r) => setTimeout(r, 250));
      }
      expect(slot, output.slice(-3000)).toBe("IDTOKENS vac01.example.org");
      pool.submit(["executable = /bin/sh", `arguments = "-c 'echo job-ok'"`, `requirements = VacuumVmId == "${uuid}"`, "output = bb.out", "log = bb.log"]);
      const code = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 120_000))]);
      expect(code, output.slice(-3000)).toBe(0);
    } finally {
      await stopGroup(agent.pid, 5_000);
    }
    const spool = join(vm.host, "root", "var", "spool", "joboutputs");
    expect(readFileSync(join(spool, "shutdown_message"), "utf8")).toBe("200 HTCondor ran 1 job to completion");
    expect(readFileSync(join(pool.chroot.dir, "srv/pools", pool.id, "jobs/bb.out"), "utf8")).toBe("job-ok\n");
    // The job outputs hold HTCondor's evidence, and no secret: the token is only in its 0600 file.
    for (const f of ["htcondor-StartLog", "htcondor-startd_history", "htcondor-config"]) expect(existsSync(join(spool, f)), f).toBe(true);
    for (const f of ["htcondor-config", "vacuum-agent.jsonl", "vacuum-agent-context.json"]) expect(readFileSync(join(spool, f), "utf8"), f).not.toContain(token);
  }, 240_000);
});
