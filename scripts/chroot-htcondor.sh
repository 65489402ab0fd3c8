#!/bin/sh
# The Debian trixie chroot holding HTCondor 23.9.6 (bookworm has none), for the HTCondor payload
# tests (test/payloads/htcondor) and scripts/bench-htcondor-startd.sh. Recipe and every pitfall:
# ../shared/reference/services.md, "HTCondor" and "Recipe: build, cache and enter the chroots in CI".
#
#   scripts/chroot-htcondor.sh build        build once (cold ~40-60 s), cached with a stamp file
#   scripts/chroot-htcondor.sh path         print the chroot's directory
#   scripts/chroot-htcondor.sh prun CMD...  run CMD in the chroot after pivot_root (a private
#                                           mount+pid namespace; nothing stays mounted afterwards,
#                                           and every process CMD started dies with it)
#
# Why trixie and not sid: trixie's 23.9.6 is the packaged stable HTCondor the reference verified
# end to end (pool, token and password joins, jobs, NOCLAIM shutdown) and the pool run is faster
# there (43 s against 56 s with sid's 25.14.1); Apptainer, the only reason to take sid, is not
# needed by these tests.
#
# Pitfall fixes baked in (services.md numbering): 1. /etc/hosts names this host first (re-checked on
# every prun, as a cached chroot may outlive a rename); 5. the rootfs is bind-mounted on itself, so
# the starter can make its private mount namespace; 6. /sys is bound non-recursively (no host
# cgroup hierarchies); 2. ENABLE_KERNEL_TUNING is off in every config the tests write (and in the
# image's own /etc/condor/config.d/00-vacuum-tests.conf, so a master started on the image's config
# cannot retune the host either). The pid namespace means daemons cannot outlive their prun.
# Users: ci (2000) submits jobs; condor is the package's own account.
set -eu
CACHE=${VACUUM_AGENT_CACHE:-/var/cache/vacuum-agent}/chroots
# Bump when anything below changes what the chroot holds: the cache key changes with it.
RECIPE=1
SUITE=trixie
PACKAGES=condor,procps,util-linux,mount

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

path() { echo "$CACHE/htcondor-$(printf '%s %s %s\n' "$RECIPE" "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)"; }

# enter CMD...: pivot_root into the rootfs inside a new mount+pid namespace, then exec CMD.
enter() {
  d=$(path)
  # condor_master calls setsid(): a signal to our process group misses it. --kill-child hands the
  # SIGTERM unshare dies of to the namespace's init (the master: its graceful shutdown); when the
  # init exits, the kernel ends every process of the namespace.
  exec unshare --mount --pid --fork --kill-child=SIGTERM --propagation private -- /bin/sh -ec '
    d=$1; shift
    mountpoint -q "$d" || mount --bind "$d" "$d"
    mount -t proc proc "$d/proc"
    for m in sys dev dev/pts; do mountpoint -q "$d/$m" || mount --bind "/$m" "$d/$m"; done
    mkdir -p "$d/.oldroot"; cd "$d"; pivot_root . .oldroot; cd /; umount -l /.oldroot
    exec "$@"' sh "$d" "$@"
}

hosts_line() { printf '127.0.0.1 %s localhost\n' "$(hostname)"; }

prun() {
  d=$(path); [ -e "$d/.complete" ] || { echo "chroot-htcondor: not built: $d (run: $0 build)" >&2; exit 3; }
  # Pitfall 1: the host name first, or every daemon logs ipv6_getaddrinfo() failures.
  [ "$(head -n 1 "$d/etc/hosts" 2>/dev/null)" = "$(hosts_line)" ] || hosts_line > "$d/etc/hosts"
  enter "$@"
}

build() {
  d=$(path)
  if [ -e "$d/.complete" ]; then echo "chroot-htcondor: cached: $d"; return 0; fi
  t0=$(now)
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap </dev/null
    echo "chroot-htcondor: mmdebstrap installed in $(since "$t0") s"
  fi
  # Never rm -rf a rootfs with the host's /dev or /proc mounted under it.
  if grep -qF " $d/" /proc/self/mountinfo 2>/dev/null; then echo "chroot-htcondor: something is mounted under $d" >&2; exit 1; fi
  rm -rf --one-file-system "$d"; mkdir -p "$CACHE"
  mirror=${MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)}
  hn=$(hostname)
  t1=$(now)
  # trixie's Release has no Valid-Until today; the aptopt keeps a later one from failing the build.
  mmdebstrap --variant=apt --include="$PACKAGES" --aptopt='Acquire::Check-Valid-Until "false"' \
    --customize-hook="printf '127.0.0.1 $hn localhost\n' > \"\$1/etc/hosts\"" \
    --customize-hook='touch "$1/etc/localtime"' \
    --customize-hook='mkdir -p "$1/etc/condor/config.d"
        printf "%s\n" "# vacuum-agent tests: never retune the host kernel (services.md pitfall 2)" \
          "ENABLE_KERNEL_TUNING = False" > "$1/etc/condor/config.d/00-vacuum-tests.conf"' \
    --customize-hook='echo "ci:x:2000:2000::/home/ci:/bin/sh" >>"$1/etc/passwd";
        echo "ci:x:2000:" >>"$1/etc/group"; mkdir -p "$1/home/ci"; chown 2000:2000 "$1/home/ci"' \
    "$SUITE" "$d" "deb $mirror $SUITE main"
  echo "chroot-htcondor: mmdebstrap $SUITE in $(since "$t1") s"
  # The tests rely on these: fail the build (no stamp) rather than skip later with a vaguer reason.
  for f in usr/sbin/condor_master usr/bin/condor_status usr/bin/condor_submit usr/bin/condor_token_create usr/sbin/condor_store_cred usr/bin/setpriv usr/bin/umount; do
    [ -x "$d/$f" ] || { echo "chroot-htcondor: $f missing after mmdebstrap" >&2; exit 1; }
  done
  grep -q '^condor:' "$d/etc/passwd" || { echo "chroot-htcondor: no condor user in the chroot" >&2; exit 1; }
  touch "$d/.complete"
  echo "chroot-htcondor: built $d in $(since "$t0") s ($(du -sm "$d" | cut -f1) MB)"
}

cmd=${1:-build}
[ $# -eq 0 ] || shift
case $cmd in
  build) t=$(now); build; echo "chroot-htcondor: build step took $(since "$t") s" ;;
  path) path ;;
  prun) prun "$@" ;;
  *) echo "usage: $0 build|path|prun CMD..." >&2; exit 2 ;;
esac
