# shellcheck shell=bash
# The DIRAC scenarios of scripts/vm/e2e.sh (sourced by it; uses its helpers and variables):
# user_data/dirac.template as the real manager renders it, in the Debian test image, with the test
# pilot (test/support/dirac-pilot/dirac-pilot.py, the real pilot's option table and JobAgent lines)
# published by the manager as the pilot directory /pilots/dirac/ (its generated checksums.sha512
# pinned with dirac_checksums_sha512, computed here the way sha512sum writes it).
#
#   dirac          the pilot "matches" a job: "200 Job 123456789 received and done". Asserted from
#                  the host: the common end (check_finished: power-off, the agent from the mirror,
#                  heartbeat, the agent's log and shutdown_message at the manager, VM finished,
#                  token in no output); the manager served checksums.sha512, pilot.json and
#                  dirac-pilot.py; the agent's log says the manifest matched its pin and verified
#                  every file; the pilot ran as vacpilot in /scratch/dirac/pilot (a second disk)
#                  with exactly the argv the agent derives and PILOT_UUID, DIRAC_PILOT_VO, HOME; its
#                  stdout and stderr reached the manager; neither the VM token nor the private key
#                  is in any output; user_data start -> the pilot's first instruction measured.
#   dirac-nomatch  the same VM whose pilot finds no job: "300 Nothing to do: no job matched"; the
#                  site gives the host certificate and key instead of a proxy: the agent mints a
#                  proxy from them and the pilot gets that, never the host key.
#
# The site's part, stood in for: an X.509 proxy (a test CA, a user certificate, an RFC 3820 proxy
# of it) given as the option x509_proxy (Vac fills it with user_data_proxy = true), or that
# certificate and key as the options hostcert and hostkey (user_data_file_hostcert and
# user_data_file_hostkey at a Vac site: the manager's emulation fills options only), and CVMFS's
# grid.cern.ch, whose etc/grid-security/{certificates,vomsdir,vomses} dirac-pilot.py requires,
# written by the platform's vendor-data (cloud-config write_files: no script, so the timeline's
# "user_data starts" is still the bootstrap's).

DIRAC_VO=gridpp
DIRAC_SITE=VAC.E2E.uk
DIRAC_SETUP=GridPP
DIRAC_QUEUE=e2e-queue
DIRAC_POOL=E2E
DIRAC_JOB=123456789
# The manager's metadata emulation gives its own host name as the space (availability zone).
DIRAC_SPACE=169.254.169.253

# dirac_stage DIR SCENARIO (vm_prepare_hook, DIR = $out): DIR/dirac-pilot, the pilot directory
# (dirac-pilot.py, pilot.json listing the space as a CE of $DIRAC_SITE whose commands end in
# LaunchAgent, the test pilot's scenario and a stderr line), DIR/dirac-ca (a CA, a user
# certificate, a proxy of it) and DIR/vendor-data. Sets dirac_manifest_sha512.
dirac_stage() {
  local d=$1 ca=$1/dirac-ca pilot=$1/dirac-pilot
  mkdir -p "$pilot" "$ca"
  cp test/support/dirac-pilot/dirac-pilot.py "$pilot/dirac-pilot.py"
  # DIRAC's own new-schema pilot.json (its CI's) when the shared fixtures are here, else a minimal one.
  "$BUN" -e '
    const [fixture, space, site, vo] = process.argv.slice(1);
    const file = Bun.file(fixture);
    const doc = (await file.exists()) ? JSON.parse(await file.text()) : {
      Defaults: { Pilot: { Commands: { "TEST-FULL": "CheckWorkerNode, InstallDIRAC, ConfigureBasics, RegisterPilot, CheckCECapabilities, CheckWNCapabilities, ConfigureSite, ConfigureArchitecture, ConfigureCPURequirements, LaunchAgent" } } },
      [vo]: { Pilot: { Version: "v8r0", CVMFS_locations: "/cvmfs/grid.cern.ch, /cvmfs/dirac.egi.eu" } },
      ConfigurationServers: ["dips://cs.e2e.vacuum.test:9135/Configuration/Server"],
    };
    doc.CEs = { ...doc.CEs, [space]: { Site: site, GridCEType: "TEST-FULL" } };
    console.log(JSON.stringify(doc, null, 1));
  ' "${DIRAC_PILOT_JSON:-$ROOT/../shared/fixtures/pilot-json/pilot-new-schema.json}" "$DIRAC_SPACE" "$DIRAC_SITE" "$DIRAC_VO" > "$pilot/pilot.json"
  echo "$2" > "$pilot/scenario"
  echo "vacuum-e2e: the pilot's stderr" > "$pilot/stderr"
  # checksums.sha512 as the manager generates it: sha512sum lines, sorted by name (C order).
  dirac_manifest_sha512=$(cd "$pilot" && LC_ALL=C ls | LC_ALL=C sort | xargs sha512sum | sha512sum | cut -d' ' -f1)

  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/DC=test/DC=vacuum-e2e/CN=E2E Test CA" \
    -keyout "$ca/ca.key" -out "$ca/ca.pem" 2> /dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/DC=test/DC=vacuum-e2e/CN=e2e pilot" -keyout "$ca/user.key" -out "$ca/user.csr" 2> /dev/null
  openssl x509 -req -in "$ca/user.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -set_serial 2 -days 1 -out "$ca/user.pem" 2> /dev/null
  "$BUN" -e '
    import { readFileSync } from "node:fs";
    import { makeProxyPem } from "./test/lifecycle/joboutputs/proxy-certificate.ts";
    process.stdout.write(makeProxyPem(readFileSync(process.argv[1], "utf8"), readFileSync(process.argv[2], "utf8")));
  ' "$ca/user.pem" "$ca/user.key" > "$ca/proxy.pem"

  {
    printf '#cloud-config\n# The site'\''s CVMFS grid.cern.ch, stood in for: what dirac-pilot.py looks for there.\nwrite_files:\n'
    printf '  - path: /cvmfs/grid.cern.ch/etc/grid-security/certificates/e2e-ca.pem\n    content: |\n'
    sed 's/^/      /' "$ca/ca.pem"
    printf '  - path: /cvmfs/grid.cern.ch/etc/grid-security/vomsdir/%s/voms.gridpp.ac.uk.lsc\n    content: |\n' "$DIRAC_VO"
    printf '      /C=UK/O=eScience/OU=Manchester/L=HEP/CN=voms.gridpp.ac.uk\n      /C=UK/O=eScienceCA/CN=UK e-Science CA 2B\n'
    printf '  - path: /cvmfs/grid.cern.ch/etc/grid-security/vomses/%s-voms.gridpp.ac.uk\n    content: |\n' "$DIRAC_VO"
    printf '      "%s" "voms.gridpp.ac.uk" "15000" "/C=UK/O=eScience/OU=Manchester/L=HEP/CN=voms.gridpp.ac.uk" "%s"\n' "$DIRAC_VO" "$DIRAC_VO"
  } > "$d/vendor-data"
}

# dirac_options DIR proxy|hostcert: the machinetype's options for dirac.template, as JSON members.
dirac_options() {
  local files=(x509_proxy "$1/dirac-ca/proxy.pem")
  [ "$2" = hostcert ] && files=(hostcert "$1/dirac-ca/user.pem" hostkey "$1/dirac-ca/user.key")
  # The first N pairs name files whose contents are the values (PEM, multi-line).
  "$BUN" -e '
    const [n, ...args] = process.argv.slice(1);
    let members = "";
    for (let i = 0; i < args.length; i += 2) {
      const v = i < 2 * Number(n) ? (await Bun.file(args[i + 1]).text()).trimEnd() : args[i + 1];
      members += `, ${JSON.stringify(args[i])}: ${JSON.stringify(v)}`;
    }
    console.log(members);
  ' $((${#files[@]} / 2)) "${files[@]}" \
    dirac_pilot_url "$FACTORY/pilots/dirac/" vo "$DIRAC_VO" dirac_queue "$DIRAC_QUEUE" submit_pool "$DIRAC_POOL" \
    dirac_site "$DIRAC_SITE" dirac_setup "$DIRAC_SETUP" dirac_opts "-d" dirac_checksums_sha512 "$dirac_manifest_sha512"
}

# scenario_dirac NAME SUFFIX PILOT-SCENARIO proxy|hostcert SHUTDOWN-MESSAGE... (the remaining words)
scenario_dirac() {
  local vm_name=$1 vm_suffix=$2 pilot_scenario=$3 creds=$4
  shift 4
  local message="$*" code=$1 key_file
  template=dirac.template
  pilot_dirs_extra=', "dirac": "dirac-pilot"'
  # shellcheck disable=SC2317 # called by vm_setup, which then adds $options_extra to the definition
  vm_prepare_hook() {
    dirac_stage "$out" "$pilot_scenario"
    options_extra=$(dirac_options "$out" "$creds")
  }
  vm_setup "$vm_name" "$vm_suffix" '#!/bin/sh
exit 0
'
  vm_boot NoCloud --scratch 1G --vendor-data "$out/vendor-data"
  check_finished "^$message\$"
  local log=$j/dirac-pilot.log agent_log=$j/vacuum-agent.jsonl f
  for f in checksums.sha512 pilot.json dirac-pilot.py scenario; do
    check "$name: the manager served /pilots/dirac/$f to the VM" grep -q "GET \"/pilots/dirac/$f\" 200" "$out/manager.log"
  done
  check "$name: the agent checked checksums.sha512 against its pin (dirac_checksums_sha512 ${dirac_manifest_sha512:0:16}…)" \
    grep -q 'pilot: checksums.sha512 lists 4 files ([0-9]* ms, its SHA-512 matches the pin)' "$agent_log"
  local verified
  verified=$(grep -o 'pilot: [^ ]* [0-9]* bytes sha512 ok' "$agent_log" 2> /dev/null | cut -d' ' -f2 | sort -u | tr '\n' ' ' || true)
  check "$name: the agent verified each of the 4 files against it (${verified% })" test "$verified" = 'dirac-pilot.py pilot.json scenario stderr '
  check "$name: the pilot ran as vacpilot in /scratch/dirac/pilot ($(grep -m1 '^test pilot: running as' "$log" 2> /dev/null))" \
    grep -Eq '^test pilot: running as vacpilot \(uid [1-9][0-9]*\) in /scratch/dirac/pilot$' "$log"
  check "$name: the agent made the second disk (vdb) its ext4 /scratch (lsblk at power-off)" grep -Eq '^vdb +1G +ext4 ' "$out/guest/run/vacuum-e2e-out/lsblk.txt"
  local argv
  argv=$(printf '"%s", ' "--Name=$DIRAC_SPACE" "--Queue=$DIRAC_QUEUE" "--name=$DIRAC_SITE" "--setup=$DIRAC_SETUP" --MaxCycles=1 --CEType=Pool --cert \
    --certLocation=/scratch/dirac/etc/grid-security "--option=/LocalSite/SubmitPool=$DIRAC_POOL" "--wnVO=$DIRAC_VO" --StopAfterFailedMatches=0 --pilotProcessors=2 --debug)
  argv="[${argv%, }]"
  check "$name: the pilot's argv is the agent's: $argv" grep -qxF "test pilot: argv $argv" "$log"
  check "$name: the pilot's environment: PILOT_UUID=vm://$DIRAC_SPACE/<vm id>, DIRAC_PILOT_VO=$DIRAC_VO, HOME=/scratch/dirac" \
    sh -c "grep '^test pilot: env ' '$log' | grep -qF '\"PILOT_UUID\": \"vm://$DIRAC_SPACE/$vm_id\"' && grep '^test pilot: env ' '$log' | grep -qF '\"DIRAC_PILOT_VO\": \"$DIRAC_VO\"' && grep '^test pilot: env ' '$log' | grep -qF '\"HOME\": \"/scratch/dirac\"'"
  check "$name: the pilot's \$JOBOUTPUTS is the manager's, without credentials" \
    sh -c "grep '^test pilot: env ' '$log' | grep -qF '\"JOBOUTPUTS\": \"$FACTORY/vms/$mt/$vm_id/joboutputs\"'"
  if [ "$code" = 200 ]; then
    check "$name: a job was matched (Received JobID=$DIRAC_JOB in the pilot's stdout)" grep -q "Received JobID=$DIRAC_JOB," "$log"
  else
    check "$name: the JobAgent found no job (its no-match line in the pilot's stdout)" grep -q 'Job request OK, but no match found' "$log"
  fi
  check "$name: the pilot's stderr reached the manager" grep -qx 'vacuum-e2e: the pilot'\''s stderr' "$j/dirac-pilot.err"
  if [ "$creds" = hostcert ]; then
    key_file=$out/dirac-ca/user.key
    check "$name: the agent minted a proxy from the host certificate ($(grep -o '"detail":"proxy [^"]*' "$agent_log" 2> /dev/null | cut -c11-))" \
      grep -q '"kind":"mint-proxy".*"detail":"proxy /DC=test/DC=vacuum-e2e/CN=e2e pilot/CN=[0-9]* valid until' "$agent_log"
    for f in hostcert.pem hostkey.pem; do
      check "$name: the pilot's $f is that proxy (cp into the pilot user's 0600 file), not the host key" \
        grep -q "\"kind\":\"run-command\".*\"detail\":\"exit 0 [^\"]*\".*\"msg\":\"stage payload: run-command cp /var/lib/vacuum-agent/credentials/x509proxy.pem $f:" "$agent_log"
    done
    check "$name: no warning that the pilot's payloads can read the host key" sh -c "! grep -q 'pilot gets the host key' '$agent_log'"
  else
    key_file=$out/dirac-ca/proxy.pem
    check "$name: the agent gave the pilot the X.509 proxy (--cert)" grep -q 'hostcert.pem (mode 0600, owner vacpilot:vacpilot, [0-9]* bytes): --cert: the X.509 proxy' "$agent_log"
  fi
  for f in hostcert.pem hostkey.pem; do
    check "$name: the pilot (as vacpilot) read its --cert $f: a proxy, 2 certificates and a private key" \
      grep -qxF "test pilot: --cert $f: readable, 2 certificate(s), a private key" "$log"
  done
  # One line of the key's body: in no upload, guest log or spool file, nor on the console.
  check "$name: the $creds private key is in no job output, guest log or spool, nor on the console" \
    sh -c "! grep -rsqF -- '$(sed -n '/PRIVATE KEY-----$/{n;p;q}' "$key_file")' '$out/state/vms' '$out/guest/var/log' '$out/guest/var/spool' '$out/console.log'"
  check_hostname
  measure_speed
}

register_scenario dirac "scenario_dirac dirac dirac job proxy 200 Job $DIRAC_JOB received and done" 1
register_scenario dirac-nomatch 'scenario_dirac dirac-nomatch dirac-nm no-match hostcert 300 Nothing to do: no job matched' 1
