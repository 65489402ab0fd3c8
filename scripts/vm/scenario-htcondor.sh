# shellcheck shell=bash
# The `htcondor` scenario of scripts/vm/e2e.sh (sourced by it; issue 9 item 4): a VM from the
# htcondor image flavour (Debian 13 with HTCondor 23.9, images/build-image.sh --flavour htcondor)
# runs user_data/htcondor.template as the manager renders it; the agent's startd joins a real
# central manager on this host through CCB, a job submitted on the host runs in the VM, the startd
# shuts down idle, and the agent reports "200 HTCondor ran 1 job to completion" and powers off.
#
# The pool: collector, negotiator, schedd and shared_port from the trixie chroot
# (scripts/chroot-htcondor.sh prun), in a network namespace of its own (`unshare -n`: lo up and
# 169.254.169.9/32 on it), so the daemons advertise 169.254.169.9:9618 (one port: shared port)
# and nothing else on this machine is reachable from it or listening for it. The host's tools
# enter that namespace with nsenter; the guest reaches the same address through a guestfwd rule
# whose command does the same (boot.sh --forward-cmd: each guest connection is an
# `nsenter --net=/proc/PID/ns/net nc -N 169.254.169.9 9618`). Behind NAT, the startd registers with
# the collector's CCB (the agent's default CCB_ADDRESS = $(COLLECTOR_HOST)); the negotiator's,
# schedd's and shadow's connections to it are reversed through the CCB, and land on the shared
# port like every other connection.
#
# The token: the collector makes the pool's signing key (passwords.d/POOL) on its first start;
# condor_token_create signs an IDTOKEN for condor@vacuum.test with it, which the definition gives
# as the condor_idtoken option (lifetime 1 h). Identity and settings follow services.md "HTCondor"
# and test/support/htcondor-pool.ts (SEC_ADVERTISE_* so that the startd's token is really used).
#
# Wall time: the job is submitted before the VM boots (it waits idle for the slot); the VM ends
# when the startd has been unclaimed for condor_idle_shutdown_seconds, checked at its next update
# (payload.htcondor.update_interval_seconds, 60 s by default): about a minute after the job.

HTCONDOR_POOL_ADDR=169.254.169.9
HTCONDOR_POOL_PORT=9618
# condor_idle_shutdown_seconds: ample for the negotiator (every 5 s) to match the waiting job to
# the new slot; the VM ends at the startd's first update after that long unclaimed.
HTCONDOR_IDLE_SHUTDOWN=30
HTCONDOR_ID_DOMAIN=vacuum.test

register_scenario htcondor scenario_htcondor 1

# The first child of PID (empty when none or gone); never fails.
htcondor_first_child() {
  local c=''
  read -r c _ 2> /dev/null < "/proc/$1/task/$1/children" || true
  echo "$c"
}

# htcondor_pool_tool [--as-ci] CMD...: CMD in the chroot, in the pool's network namespace, with
# the central manager's configuration (as root, or as the submitting user ci with --as-ci).
htcondor_pool_tool() {
  local who=()
  if [ "$1" = --as-ci ]; then who=(setpriv --reuid=2000 --regid=2000 --clear-groups env HOME=/home/ci); shift; fi
  nsenter --net="/proc/$pool_ns_pid/ns/net" sh "$ROOT/scripts/chroot-htcondor.sh" prun \
    "${who[@]}" env "CONDOR_CONFIG=$pool_inner/cm/condor_config" "$@"
}

htcondor_cm_config() {
  cat <<EOF
# The e2e scenario's central manager (scripts/vm/scenario-htcondor.sh).
use security:recommended_v9_0
LOCAL_DIR = $pool_inner/cm
RELEASE_DIR = /usr
LIBEXEC = /usr/libexec/condor
ETC = \$(LOCAL_DIR)
LOG = \$(LOCAL_DIR)/log
SPOOL = \$(LOCAL_DIR)/spool
EXECUTE = \$(LOCAL_DIR)/execute
LOCK = \$(LOCAL_DIR)/lock
RUN = \$(LOCAL_DIR)/run
SEC_TOKEN_SYSTEM_DIRECTORY = \$(LOCAL_DIR)/tokens.d
SEC_TOKEN_DIRECTORY = \$(LOCAL_DIR)/tokens.d
SEC_PASSWORD_DIRECTORY = \$(LOCAL_DIR)/passwords.d
LOCAL_CONFIG_FILE =
LOCAL_CONFIG_DIR =
CONDOR_HOST = $HTCONDOR_POOL_ADDR
COLLECTOR_HOST = $HTCONDOR_POOL_ADDR:$HTCONDOR_POOL_PORT
# The namespace's own address: what the guest's forward reaches.
NETWORK_INTERFACE = $HTCONDOR_POOL_ADDR
BIND_ALL_INTERFACES = False
ENABLE_IPV6 = False
# One port for every daemon: the guest reaches only what a guestfwd rule names.
USE_SHARED_PORT = True
SHARED_PORT_PORT = $HTCONDOR_POOL_PORT
DAEMON_LIST = MASTER, COLLECTOR, NEGOTIATOR, SCHEDD, SHARED_PORT
MASTER_NAME = cm
SCHEDD_NAME = cm
UID_DOMAIN = $HTCONDOR_ID_DOMAIN
SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS
# services.md pitfall 10: the startd's token must be what admits it.
SEC_ADVERTISE_STARTD_AUTHENTICATION_METHODS = IDTOKENS
SEC_ADVERTISE_MASTER_AUTHENTICATION_METHODS = IDTOKENS
ENABLE_KERNEL_TUNING = False
NEGOTIATOR_INTERVAL = 5
NEGOTIATOR_CYCLE_DELAY = 5
SCHEDD_INTERVAL = 5
NEGOTIATOR_DEBUG = D_MATCH
EOF
}

# htcondor_pool_start: the central manager up (schedd listed by the collector) in its namespace.
# Sets pool_pid (a `timeout` that bounds the pool's life even if this script is killed),
# pool_ns_pid (the namespace's holder, `unshare`), pool_inner/pool_host (its directory as the
# chroot and as this machine see it).
htcondor_pool_start() {
  local chroot t0=$EPOCHREALTIME
  mkdir -p "$out/pool"
  sh scripts/chroot-htcondor.sh build > "$out/pool/chroot-build.log" 2>&1 || { say "$name: the HTCondor chroot could not be built: $(tail -3 "$out/pool/chroot-build.log")"; return 1; }
  chroot=$(sh scripts/chroot-htcondor.sh path)
  pool_inner=/srv/e2e-pools/$name-$$
  pool_host=$chroot$pool_inner
  rm -rf --one-file-system "$pool_host"
  mkdir -p "$pool_host/cm/log" "$pool_host/cm/passwords.d" "$pool_host/jobs"
  chmod 0700 "$pool_host/cm/passwords.d"
  chown condor:condor "$pool_host/cm/log" 2> /dev/null || chown 100:101 "$pool_host/cm/log"
  chown 2000:2000 "$pool_host/jobs"
  htcondor_cm_config > "$pool_host/cm/condor_config"
  # A bound on the pool's life should this script be killed: unshare ignores the timeout's TERM
  # but not its KILL 10 s later, and --kill-child (chroot-htcondor.sh) then gives the master
  # SIGTERM; the namespace goes with its last process.
  timeout -k 10 $((TIMEOUT + 600)) unshare -n sh -c '
    ip link set lo up && ip addr add "$1/32" dev lo || exit 1
    shift
    exec sh "$@"' sh "$HTCONDOR_POOL_ADDR" scripts/chroot-htcondor.sh prun \
    env "CONDOR_CONFIG=$pool_inner/cm/condor_config" condor_master -f > "$out/pool/master.out" 2>&1 &
  pool_pid=$!
  pool_ns_pid=
  local i
  for i in $(seq 300); do
    if [ -z "$pool_ns_pid" ]; then
      pool_ns_pid=$(htcondor_first_child "$pool_pid")
      # Still before `unshare -n` took effect: the same namespace as ours.
      [ -n "$pool_ns_pid" ] && [ "$(readlink "/proc/$pool_ns_pid/ns/net")" = "$(readlink /proc/self/ns/net)" ] && pool_ns_pid=
    fi
    if [ -n "$pool_ns_pid" ] && htcondor_pool_tool condor_status -schedd -af Name 2> /dev/null | grep -q '^cm@'; then
      pool_up_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
      return 0
    fi
    kill -0 "$pool_pid" 2> /dev/null || break
    sleep 0.2
  done
  say "$name: the central manager did not come up: $(tail -5 "$out/pool/master.out" 2> /dev/null)"
  return 1
}

# htcondor_pool_stop: the master's graceful shutdown (SIGTERM), SIGKILL after 20 s; the pool's
# logs and job files copied to $out/pool; its directory removed. Safe to call twice.
htcondor_pool_stop() {
  htcondor_watch_stop
  [ -n "${pool_pid:-}" ] || return 0
  local master i
  master=$(htcondor_first_child "$pool_ns_pid")
  [ -z "$master" ] || kill -TERM "$master" 2> /dev/null || true
  for i in $(seq 200); do kill -0 "$pool_pid" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$pool_pid" 2> /dev/null; then
    [ -z "$master" ] || kill -KILL "$master" 2> /dev/null || true
    kill -KILL "$pool_ns_pid" "$pool_pid" 2> /dev/null || true
  fi
  wait "$pool_pid" 2> /dev/null || true
  pool_pid=
  if [ -n "${pool_host:-}" ] && [ -d "$pool_host" ]; then
    cp -a "$pool_host/cm/log" "$out/pool/cm-log" 2> /dev/null || true
    cp -a "$pool_host/jobs" "$out/pool/jobs" 2> /dev/null || true
    rm -rf --one-file-system "$pool_host"
  fi
}

# The host's view while the VM runs: every 3 s the pool's slots and queue, with the host time;
# the first time a slot of this VM shows, its whole ad (slot-ad.txt).
htcondor_watch_start() {
  (
    set +e
    while :; do
      echo "=== $EPOCHREALTIME"
      htcondor_pool_tool condor_status -af Name VacuumMachinetype VacuumVmId State Activity 2>&1
      echo "--- queue"
      htcondor_pool_tool condor_q -allusers -af ClusterId JobStatus RemoteHost 2>&1
      if [ ! -s "$out/pool/slot-ad.txt" ]; then
        htcondor_pool_tool condor_status -l -constraint "VacuumVmId == \"$vm_id\"" > "$out/pool/slot-ad.tmp" 2> /dev/null
        if grep -q '^Name = ' "$out/pool/slot-ad.tmp"; then mv "$out/pool/slot-ad.tmp" "$out/pool/slot-ad.txt"; echo "slot seen $EPOCHREALTIME" > "$out/pool/slot-seen.txt"; fi
      elif [ ! -e "$out/pool/analyze.txt" ] && awk -v t="$EPOCHREALTIME" '{ exit !(t - $3 > 15) }' "$out/pool/slot-seen.txt"; then
        # Still idle 15 s after the slot showed (the negotiator runs every 5 s): why, for the record.
        htcondor_pool_tool condor_q -allusers -constraint 'JobStatus == 1' -better-analyze > "$out/pool/analyze.txt" 2>&1
      fi
      sleep 3
    done
  ) > "$out/pool/watch.txt" 2>&1 &
  watch_pid=$!
}
htcondor_watch_stop() {
  [ -n "${watch_pid:-}" ] || return 0
  kill "$watch_pid" 2> /dev/null || true
  wait "$watch_pid" 2> /dev/null || true
  watch_pid=
}

# The job: submitted by ci on the host, for a slot of this machinetype only (STARTD_ATTRS).
htcondor_submit() {
  cat > "$pool_host/jobs/job.sub" <<EOF
universe = vanilla
executable = /bin/sh
arguments = "-c 'hostname; id'"
transfer_executable = false
should_transfer_files = YES
when_to_transfer_output = ON_EXIT
output = job.out
error = job.err
log = job.log
request_cpus = 1
request_memory = 64
request_disk = 1024
requirements = (VacuumMachinetype =?= "$mt")
queue
EOF
  chown 2000:2000 "$pool_host/jobs/job.sub"
  htcondor_pool_tool --as-ci sh -c "cd $pool_inner/jobs && condor_submit -terse job.sub" > "$out/pool/submit.out" 2>&1
}

# vm_prepare_hook: the pool, the VM's token and the job, before the manager renders the user_data.
# Never fails (e2e.sh runs it under set -e): pool_ready=1 says it all worked.
htcondor_prepare() {
  pool_ready=0
  htcondor_pool_start || return 0
  local token=''
  token=$(htcondor_pool_tool condor_token_create -identity "condor@$HTCONDOR_ID_DOMAIN" -lifetime 3600 2> "$out/pool/token.err") || true
  [[ $token =~ ^[A-Za-z0-9_.-]+$ ]] || { say "$name: condor_token_create made no token: $(cat "$out/pool/token.err")"; return 0; }
  pool_token=$token
  options_extra=", \"condor_host\": \"$HTCONDOR_POOL_ADDR:$HTCONDOR_POOL_PORT\", \"condor_idtoken\": \"$token\", \"uid_domain\": \"$HTCONDOR_ID_DOMAIN\", \"condor_idle_shutdown_seconds\": \"$HTCONDOR_IDLE_SHUTDOWN\""
  htcondor_submit || { say "$name: condor_submit failed: $(cat "$out/pool/submit.out")"; return 0; }
  pool_ready=1
}

# The condor_master start as a `vacuum-mark payload-start` line timeline.ts reads from
# $out/joboutputs/: the agent's run-payload record (logged when the master ended, with its
# duration) is when it spawned condor_master.
htcondor_payload_mark() {
  mkdir -p "$out/joboutputs"
  "$BUN" -e '
    const text = await Bun.file(process.argv[1]).text().catch(() => "");
    for (const line of text.split("\n")) {
      let r; try { r = JSON.parse(line); } catch { continue; }
      if (r.kind === "run-payload" && typeof r.durationMs === "number") {
        console.log(`vacuum-mark payload-start ${(Date.parse(r.time) / 1000 - r.durationMs / 1000).toFixed(3)} (condor_master spawned by the agent)`);
        break;
      }
    }' "$j/vacuum-agent.jsonl" > "$out/joboutputs/htcondor-payload-start.txt"
}

scenario_htcondor() {
  # The idle shutdown comes at the startd's first update after 30 s unclaimed: give the boot 2 min more.
  local TIMEOUT=$((TIMEOUT + 120)) image t_qemu slot_t job_line hist left_t
  template=htcondor.template
  image=$(images/build-image.sh build --flavour htcondor) || { check "htcondor: the htcondor image flavour was built" false; return; }
  pool_pid='' pool_ns_pid='' watch_pid='' pool_token='' pool_ready=0
  trap 'htcondor_pool_stop; stop_receiver; stop_manager' EXIT
  vm_prepare_hook() { htcondor_prepare; }
  vm_setup htcondor htcondor '#!/bin/sh
exit 0
'
  if [ "$pool_ready" != 1 ]; then
    check "$name: the central manager, the token and the job were ready before the boot (see $out/pool)" false
    htcondor_pool_stop
    stop_receiver
    stop_manager
    trap 'stop_receiver; stop_manager' EXIT
    return
  fi
  note "$name: central manager up in its network namespace at $HTCONDOR_POOL_ADDR:$HTCONDOR_POOL_PORT in ${pool_up_s} s; job $(tr -d '\n' < "$out/pool/submit.out") submitted as ci before the boot"
  htcondor_watch_start
  # The test network gives the guest a link-local IPv4 address and slirp's fec0::/64 by SLAAC.
  # HTCondor ranks the IPv6 address higher and, with no IPv4 address it counts as usable, runs
  # IPv6-only: the IPv4-only pool then matches no job to it (seen: "Rejected ...: no match
  # found"). A VM on a real network has a private or public IPv4 address (mixed mode); here the
  # guest gets no IPv6 at all, like the pool.
  vm_boot NoCloud --image "$image" --append "sysctl.net.ipv6.conf.all.disable_ipv6=1 sysctl.net.ipv6.conf.default.disable_ipv6=1" \
    --forward-cmd "$HTCONDOR_POOL_ADDR:$HTCONDOR_POOL_PORT=nsenter --net=/proc/$pool_ns_pid/ns/net nc -N $HTCONDOR_POOL_ADDR $HTCONDOR_POOL_PORT"
  htcondor_watch_stop
  htcondor_pool_tool condor_history -af ClusterId JobStatus ExitCode LastRemoteHost Owner > "$out/pool/history.txt" 2>&1 || true
  htcondor_pool_tool condor_q -allusers -af ClusterId JobStatus > "$out/pool/queue-after.txt" 2>&1 || true
  htcondor_pool_stop
  trap 'stop_receiver; stop_manager' EXIT
  htcondor_payload_mark

  check_finished '^200 HTCondor ran 1 job to completion'
  # Every value below may be missing after a failed run: nothing here may stop the script (set -e).
  local ad=$out/pool/slot-ad.txt
  attr() { sed -n "s/^$1 = //p" "$ad" 2> /dev/null | head -1 || true; }
  check "$name: the VM's slot joined the pool ($(attr Name))" grep -q "^Name = \"slot1@$hostname_\"" "$ad"
  check "$name: the slot advertises VacuumMachinetype $(attr VacuumMachinetype) and VacuumVmId $(attr VacuumVmId) (STARTD_ATTRS)" \
    sh -c "grep -qx 'VacuumMachinetype = \"$mt\"' '$ad' && grep -qx 'VacuumVmId = \"$vm_id\"' '$ad'"
  check "$name: the startd authenticated with the pool's IDTOKEN ($(attr AuthenticationMethod) $(attr AuthenticatedIdentity))" \
    sh -c "grep -qx 'AuthenticationMethod = \"IDTOKENS\"' '$ad' && grep -qx 'AuthenticatedIdentity = \"condor@$HTCONDOR_ID_DOMAIN\"' '$ad'"
  check "$name: one partitionable slot, reached through the collector's CCB" \
    sh -c "grep -qx 'PartitionableSlot = true' '$ad' && grep -q '^MyAddress = .*CCBID=$HTCONDOR_POOL_ADDR:$HTCONDOR_POOL_PORT' '$ad'"
  hist=$(head -1 "$out/pool/history.txt" 2> /dev/null || true)
  check "$name: the job completed with exit 0 in the VM's slot (condor_history: $hist)" \
    awk -v h="$hostname_" '$2 == 4 && $3 == 0 && $4 ~ ("^slot1_[0-9]+@" h "$") && $5 == "ci" { ok = 1 } END { exit !ok }' "$out/pool/history.txt"
  job_line=$(tr '\n' ' ' 2> /dev/null < "$out/pool/jobs/job.out" || true)
  check "$name: the job's output says it ran in the VM as nobody ($job_line)" \
    sh -c "head -1 '$out/pool/jobs/job.out' | grep -qx '$hostname_' && grep -q '^uid=65534(nobody)' '$out/pool/jobs/job.out'"
  check "$name: the queue is empty afterwards" test ! -s "$out/pool/queue-after.txt"
  # The master in a delegated scope (src/payloads/htcondor/plan.ts masterArgv): the starter could
  # give the job its own cgroup with the memory limit.
  check "$name: the job ran in its own cgroup with its limits (StarterLog: moved to a cgroup, no cgroup error)" \
    sh -c "grep -q 'Successfully moved procid [0-9]* to cgroup' '$j/htcondor-StarterLog.slot1_1' && ! grep -Eq 'Error (setting cgroup|enabling per-cgroup)|track_family_via_cgroup error' '$j/htcondor-StarterLog.slot1_1'"
  check "$name: the agent waited for the slot in the collector (readiness probe)" grep -q 'payload ready: the startd is visible in the collector' "$j/vacuum-agent.jsonl"
  check "$name: the startd shut down idle after the job (StartLog at the manager)" \
    sh -c "grep -q 'No resources have been claimed for [0-9]* seconds' '$j/htcondor-StartLog' && grep -q 'Shutting down Condor on this machine' '$j/htcondor-StartLog'"
  # The first complete poll without a slot of the VM's after one with: when the slot left the pool.
  left_t=$(awk '/^=== /{ t = $2; n = 0 } /^slot1/{ n++ } /^--- queue/{ if (n > 0) seen = 1; else if (seen && left == "") left = t } END { print left }' "$out/pool/watch.txt" 2> /dev/null || true)
  check "$name: the slot left the pool $(awk -v a="${left_t:-0}" -v b="$qemu_end" 'BEGIN { printf "%.0f", b - a }') s before the VM powered off (host's condor_status every 3 s)" \
    awk -v a="${left_t:-x}" -v b="$qemu_end" 'BEGIN { exit !(a != "x" && a < b) }'
  check "$name: the startd history and the HTCondor logs reached the manager" \
    sh -c "grep -q '^GlobalJobId = ' '$j/htcondor-startd_history' && test -s '$j/htcondor-MasterLog' && test -s '$j/htcondor-config'"
  check "$name: the pool's IDTOKEN appears in no job output, guest log or the console" \
    sh -c "! grep -rsqF -- '$pool_token' '$out/state/vms' '$out/guest/var/log' '$out/guest/var/spool' '$out/console.log'"
  check_hostname
  if [ -s "$out/pool/slot-seen.txt" ]; then
    t_qemu=$(sed -n 's/^qemu_start=//p' "$out/boot.env" || true)
    slot_t=$(awk -v a="$t_qemu" '{ printf "%.0f", $3 - a }' "$out/pool/slot-seen.txt" || true)
    note "$name: the host saw the VM's slot ${slot_t} s after qemu started (polling every 3 s); the VM powered off after $(awk -v a="$qemu_start" -v b="$qemu_end" 'BEGIN { printf "%.0f", b - a }') s"
  fi
  measure_speed
  unset -f attr
}
