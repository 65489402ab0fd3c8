#!/bin/sh
# The Debian sid chroot holding Apptainer 1.4.5 (bookworm and trixie have none), for the isolation
# tests (test/isolation). Recipe: ../shared/reference/services.md, "Apptainer" and "Recipe: build,
# cache and enter the chroots in CI".
#
#   scripts/chroot-apptainer.sh build        build once (cold ~30-40 s), cached with a stamp file
#   scripts/chroot-apptainer.sh path         print the chroot's directory
#   scripts/chroot-apptainer.sh prun CMD...  run CMD in the chroot after pivot_root (a private
#                                            mount+pid namespace; nothing stays mounted afterwards)
#
# Apptainer refuses a plain chroot ("weak chrooted environment"): hence prun's pivot_root.
# The chroot also holds two tiny busybox images made without the internet: /srv/sbx (a sandbox
# directory, `apptainer build --sandbox`) and /srv/x.sif; and two ordinary users, ci (2000) and
# vacpilot (2001), for the unprivileged (user namespace) runs.
set -eu
. "$(dirname "$0")/chroot-common.sh"
NAME=apptainer
# Bump when anything below changes what the chroot holds: the cache key changes with it.
RECIPE=1
SUITE=sid
PACKAGES=apptainer,mount,busybox-static,procps

run_mmdebstrap() {
  mmdebstrap_with "$@" \
    --customize-hook='f="$1/etc/apptainer/apptainer.conf"; [ ! -f "$f" ] ||
        sed -i "s/^root default capabilities = full/root default capabilities = file/" "$f"' \
    --customize-hook='echo "vacpilot:x:2001:2001::/home/vacpilot:/bin/sh" >>"$1/etc/passwd";
        echo "vacpilot:x:2001:" >>"$1/etc/group"; mkdir -p "$1/home/vacpilot"; chown 2001:2001 "$1/home/vacpilot"' \
    --customize-hook='i="$1/srv/img"; mkdir -p "$i/bin" "$i/etc"
        for s in dev proc sys tmp var/tmp home root; do mkdir -p "$i/$s"; done
        cp "$1/bin/busybox" "$i/bin/busybox"
        for l in sh true false echo id cat ls; do ln -s busybox "$i/bin/$l"; done
        echo "root:x:0:0::/root:/bin/sh" >"$i/etc/passwd"; echo "root:x:0:" >"$i/etc/group"'
}

after_mmdebstrap() {
  t2=$(now)
  # The images are built by the real apptainer, so they must be built after pivot_root too.
  ( enter /bin/sh -ec 'apptainer -s build --sandbox /srv/sbx /srv/img && apptainer -s build /srv/x.sif /srv/img' )
  echo "chroot-apptainer: images /srv/sbx and /srv/x.sif in $(since "$t2") s"
}

main "$@"
