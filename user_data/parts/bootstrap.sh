#!/bin/sh
# vacuum-agent bootstrap (user_data/README.md): fetch the agent, its sha256 pinned, and run it.
# When no source gives the right bytes, write a shutdown_message, upload it and power off: a VM
# never idles until the site kills it. The manager fills the values in double braces when it
# publishes the template; Vac or Vcycle fill the user_data patterns when they start the VM.
# `sh THIS prefetch` (the cloud-config part's bootcmd, in cloud-init's init stage) only fetches:
# the download then overlaps cloud-init's later stages, and the run (cloud-init's final stage)
# finds the agent installed. A failed or missing prefetch changes nothing: the run fetches itself.
MODE=${1:-run}
AGENT_SHA256='{{vacuum.agent_sha256}}'
# Tried in this order: the CVMFS path, the site's mirrors, the manager's URL. Each is the plain
# binary; SOURCE.zst (when zstd is here) and SOURCE.gz are tried before it and decompressed while
# they arrive, because the guest's network, not its CPU, is what limits the start.
AGENT_CVMFS='##user_data_option_agent_cvmfs_path##'
AGENT_URLS='##user_data_option_agent_urls## {{vacuum.agent_url}}'
MANAGER_URL='{{vacuum.manager_url}}'
VM_ID='{{vacuum.vm_id}}'
VM_TOKEN='{{vacuum.vm_token}}'
JOBOUTPUTS='##user_data_joboutputs_url##'
MANAGER_JOBOUTPUTS='{{vacuum.joboutputs_url}}'
BIN=/usr/local/sbin/vacuum-agent
LOG=/var/log/vacuum-agent-bootstrap.log
USER_DATA=/var/lib/cloud/instance/user-data.txt
# The prefetch's lock and its verdict (the sha256 it installed), on tmpfs: one boot only.
PREFETCH=/run/vacuum-agent-prefetch
SPOOL=/var/spool/joboutputs
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
set -f

# Few processes on the way to the agent: each fork costs ~30 ms in a slow (emulated) VM.
log() {
  set -- "$(date -u +%H:%M:%S) vacuum-bootstrap: $*"
  printf '%s\n' "$1"
  printf '%s\n' "$1" >> "$LOG"
}
# Timeline marks read by scripts/vm/timeline.ts (seconds since the epoch, guest clock).
mark() { echo "vacuum-mark $1 $(date +%s.%N)" >> "$LOG"; }

# fetch_all: one round over every source; 0 when $BIN.new holds the pinned binary.
fetch_all() {
  for s in $AGENT_CVMFS $AGENT_URLS; do
    fetch "$s" && return 0
  done
  return 1
}

# fetch SOURCE: 0 when $BIN.new holds the pinned binary from SOURCE (a path or an http(s) URL).
fetch() {
  for enc in zst gz plain; do
    case $enc in
      zst) command -v zstd > /dev/null 2>&1 || continue; src=$1.zst; dec='zstd -dcq' ;;
      gz) src=$1.gz; dec='gzip -dc' ;;
      plain) src=$1; dec=cat ;;
    esac
    # The sha256 is computed on the bytes as they are written: no second pass over 100 MB.
    case $src in
      /*) [ -r "$src" ] || continue
          sum=$(timeout 300 cat "$src" | $dec 2> /dev/null | tee "$BIN.new" | sha256sum) ;;
      http://* | https://*)
          sum=$(curl -fsSL --connect-timeout 10 --max-time 300 "$src" 2>> "$LOG" | $dec 2> /dev/null | tee "$BIN.new" | sha256sum) ;;
      *) return 1 ;;
    esac
    [ "${sum%% *}" = "$AGENT_SHA256" ] && { log "agent from $src"; return 0; }
    [ -s "$BIN.new" ] && log "wrong sha256 from $src"
  done
  return 1
}

# put FILE NAME BASE: to BASE/NAME (a Content-Length, as Vac requires; a few tries), BASE being
# the site's $JOBOUTPUTS or the manager's job outputs of this VM (which takes the VM's token).
put() {
  case $3 in
    /*) mkdir -p "$3" && cp "$1" "$3/$2"; return ;;
    http://* | https://*) ;;
    *) return 1 ;;
  esac
  set -- "$1" "$2" "$3" -fsS --connect-timeout 10 --max-time 30 --retry 3 --retry-delay 2 -T "$1"
  [ -d /etc/grid-security/certificates ] && set -- "$@" --capath /etc/grid-security/certificates
  # Vcycle's HTTPS wants the X.509 proxy of the user_data as client certificate.
  [ -s "$SPOOL/.proxy" ] && set -- "$@" --cert "$SPOOL/.proxy" --key "$SPOOL/.proxy"
  case $3 in "$MANAGER_URL"/*) set -- "$@" -H "Authorization: Bearer $VM_TOKEN" ;; esac
  n=$2 base=$3
  shift 3
  curl "$@" "$base/$n" 2>> "$LOG"
}

give_up() {
  msg="600 vacuum-agent bootstrap: $1"
  log "$msg"
  mkdir -p "$SPOOL"
  printf '%s' "$msg" > "$SPOOL/shutdown_message"
  if [ -r "$USER_DATA" ]; then
    (umask 077; sed -n '/^user_data_option_x509_proxy <<END_OF_X509_PROXY$/,/^END_OF_X509_PROXY$/p' "$USER_DATA" \
      | sed '1d;$d' > "$SPOOL/.proxy")
    grep -q 'BEGIN' "$SPOOL/.proxy" 2> /dev/null || rm -f "$SPOOL/.proxy"
  fi
  cp "$LOG" "$SPOOL/vacuum-agent-bootstrap.log"
  # The site reads the message from $JOBOUTPUTS; the manager keeps its own copy. The message last.
  case $MANAGER_URL$VM_TOKEN$MANAGER_JOBOUTPUTS in *'{{'*) MANAGER_JOBOUTPUTS= ;; esac
  for base in "$JOBOUTPUTS" "$MANAGER_JOBOUTPUTS"; do
    [ -n "$base" ] || continue
    put "$SPOOL/vacuum-agent-bootstrap.log" vacuum-agent-bootstrap.log "$base"
    put "$SPOOL/shutdown_message" shutdown_message "$base" || log "could not upload the shutdown_message to $base"
  done
  rm -f "$SPOOL/.proxy"
  sync
  # systemctl works without D-Bus here (it says "Failed to connect to bus" and still powers off).
  systemctl --no-block poweroff 2> /dev/null || shutdown -h now 2> /dev/null || poweroff 2> /dev/null
  sleep 60
  echo o > /proc/sysrq-trigger
  exit 1
}

valid_sha=1
case $AGENT_SHA256 in *[!0-9a-f]* | '') valid_sha=0 ;; esac
[ "${#AGENT_SHA256}" -eq 64 ] || valid_sha=0

if [ "$MODE" = prefetch ]; then
  # One round, no give-up: the run decides. Without flock no prefetch (the run must not race it).
  [ "$valid_sha" = 1 ] && command -v flock > /dev/null 2>&1 || exit 0
  exec 8> "$PREFETCH.lock"
  flock -n 8 || exit 0
  mark prefetch-start
  log "VM $VM_ID: prefetching the agent while cloud-init goes on"
  mkdir -p "${BIN%/*}"
  if fetch_all && chmod 0755 "$BIN.new" && mv -f "$BIN.new" "$BIN"; then
    echo "$AGENT_SHA256" > "$PREFETCH.ok"
    mark prefetch-done
  else
    rm -f "$BIN.new"
    log "prefetch: no source gave the agent; the run will try again"
  fi
  exit 0
fi

mark bootstrap-start
[ "$valid_sha" = 1 ] || give_up "the template was not published by the manager: no 64-hex agent sha256"
[ -d "${BIN%/*}" ] || mkdir -p "${BIN%/*}"
# prefetched: 0 when the prefetch installed the pinned binary (its verdict read without a subshell).
prefetched() {
  got=''
  [ -x "$BIN" ] && [ -r "$PREFETCH.ok" ] && read -r got < "$PREFETCH.ok"
  [ "$got" = "$AGENT_SHA256" ]
}
# A prefetch still running: wait for it (its curl has a 300 s limit) rather than fetch twice.
if [ -e "$PREFETCH.lock" ] && command -v flock > /dev/null 2>&1; then
  exec 8> "$PREFETCH.lock"
  flock -w 330 8 || log "the prefetch still holds its lock after 330 s: fetching anyway"
fi
round=1
if prefetched; then
  log "agent prefetched during cloud-init's init stage (sha256 verified then)"
else
  log "VM $VM_ID: fetching the agent"
fi
while ! prefetched; do
  if fetch_all; then
    chmod 0755 "$BIN.new" && mv -f "$BIN.new" "$BIN" || give_up "could not install the agent in $BIN"
    mark agent-fetched
    break
  fi
  [ "$round" -ge 4 ] && give_up "could not fetch the agent (sha256 ${AGENT_SHA256%"${AGENT_SHA256#????????????}"}...) from any source in 4 rounds"
  log "round $round: no source gave the agent; trying again in $((round * 10)) s"
  sleep $((round * 10))
  round=$((round + 1))
done
# cloud-init's copy of the user_data: the same bytes, without asking the metadata service again.
# The token is not handed on: the agent reads the user_data itself (an environment would reach the payload).
set -- run
[ -r "$USER_DATA" ] && set -- "$@" --user-data "$USER_DATA"
unset VM_TOKEN
mark agent-exec
exec "$BIN" "$@"
