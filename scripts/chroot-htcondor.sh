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
. "$(dirname "$0")/chroot-common.sh"
NAME=htcondor
# Bump when anything below changes what the chroot holds: the cache key changes with it.
RECIPE=1
SUITE=trixie
PACKAGES=condor,procps,util-linux,mount
# condor_master calls setsid(): a signal to our process group misses it. --kill-child hands the
# SIGTERM unshare dies of to the namespace's init (the master: its graceful shutdown); when the
# init exits, the kernel ends every process of the namespace.
UNSHARE_EXTRA=--kill-child=SIGTERM

hosts_line() { printf '127.0.0.1 %s localhost\n' "$(hostname)"; }

# Pitfall 1: the host name first, or every daemon logs ipv6_getaddrinfo() failures.
before_enter() {
  [ "$(head -n 1 "$1/etc/hosts" 2>/dev/null)" = "$(hosts_line)" ] || hosts_line > "$1/etc/hosts"
}

run_mmdebstrap() {
  mmdebstrap_with "$@" \
    --customize-hook='mkdir -p "$1/etc/condor/config.d"
        printf "%s\n" "# vacuum-agent tests: never retune the host kernel (services.md pitfall 2)" \
          "ENABLE_KERNEL_TUNING = False" > "$1/etc/condor/config.d/00-vacuum-tests.conf"'
}

after_mmdebstrap() {
  # The tests rely on these: fail the build (no stamp) rather than skip later with a vaguer reason.
  for f in usr/sbin/condor_master usr/bin/condor_status usr/bin/condor_submit usr/bin/condor_token_create usr/sbin/condor_store_cred usr/bin/setpriv usr/bin/umount; do
    [ -x "$1/$f" ] || { echo "chroot-htcondor: $f missing after mmdebstrap" >&2; exit 1; }
  done
  grep -q '^condor:' "$1/etc/passwd" || { echo "chroot-htcondor: no condor user in the chroot" >&2; exit 1; }
}

main "$@"
