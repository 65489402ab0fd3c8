#!/usr/bin/env bash
# The Debian 12 test image for the VM end-to-end tests: systemd, udev, cloud-init, the cloud kernel,
# and what the agent uses (e2fsprogs for /scratch, iptables for the metadata lock-down, curl, zstd).
# Recipe and reasons: images/README.md and ../shared/reference/vm-e2e.md.
#
#   images/build-image.sh [--datasource NoCloud|OpenStack|Ec2] [--flavour default|htcondor]
#                                                   build once, cached; prints the directory
#   images/build-image.sh path [--datasource ...] [--flavour ...]   print the directory (built or not)
#
# Flavours: `default` is Debian 12 (bookworm) with the packages below. `htcondor` is Debian 13
# (trixie: bookworm has no HTCondor) with the same packages plus `condor` (23.9.x), its
# condor.service masked (the agent starts its own condor_master with a private configuration);
# the mirrors are the ones apt uses for bookworm here, with the suite names changed. Each flavour
# is cached under its own name and key (debian12-<hash>, debian13-htcondor-<hash>).
#
# The directory holds vmlinuz, initrd.img, root.raw (ext4 made by `mkfs.ext4 -d`, sparse; boot
# overlays back onto it with -F raw) and .complete (the recipe it was built from). One image serves
# all three datasources: --datasource only changes the default `datasource_list`, and
# scripts/vm/boot.sh picks another one per boot with `ci.ds=` on the kernel command line.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VACUUM_AGENT_CACHE:-/var/cache/vacuum-agent}/images
# The suite this machine's apt sources are read for (the mirrors of every flavour come from them).
HOST_SUITE=bookworm
SUITE=bookworm
# Bump when anything below changes what the image holds (the script's own text is hashed too).
RECIPE=1
# vm-e2e.md's verified list, plus: e2fsprogs (mkfs.ext4 for /scratch), iptables (metadata
# lock-down), netcat-openbsd (debugging), zstd (the agent download, see user_data/README.md),
# procps and kmod (ps, sysctl, modprobe for the agent's probes), tar and gzip for the out-disk.
PACKAGES=systemd-sysv,udev,cloud-init,curl,ca-certificates,linux-image-cloud-amd64,ifupdown,isc-dhcp-client,iproute2,netbase,e2fsprogs,iptables,netcat-openbsd,zstd,procps,kmod,tar,gzip
HOST_PACKAGES=(qemu-system-x86 qemu-utils mmdebstrap genisoimage e2fsprogs netcat-openbsd)
DISK_SIZE=2G

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "build-image: $*" >&2; }

datasource=NoCloud
flavour=default
cmd=build
while [ $# -gt 0 ]; do
  case $1 in
    build | path) cmd=$1 ;;
    --datasource) datasource=${2:?--datasource needs NoCloud, OpenStack or Ec2}; shift ;;
    --flavour) flavour=${2:?--flavour needs default or htcondor}; shift ;;
    *) echo "usage: $0 [build|path] [--datasource NoCloud|OpenStack|Ec2] [--flavour default|htcondor]" >&2; exit 64 ;;
  esac
  shift
done
case $datasource in NoCloud | OpenStack | Ec2) ;; *) say "unknown datasource $datasource (NoCloud, OpenStack or Ec2)"; exit 64 ;; esac
# NAME: the cache directory's prefix. FLAVOUR_HOOKS: extra mmdebstrap customize hooks.
# FLAVOUR_CLOUD_CFG: more lines for the cloud.cfg.d file.
FLAVOUR_HOOKS=()
FLAVOUR_CLOUD_CFG=''
case $flavour in
  default) NAME=debian12 ;;
  htcondor)
    NAME=debian13-htcondor SUITE=trixie PACKAGES=$PACKAGES,condor
    # The package enables condor.service; a master on the image's own /etc/condor would run beside
    # the agent's (services.md "Layout that works": the agent never touches the image's config).
    FLAVOUR_HOOKS=(--customize-hook='ln -sf /dev/null "$1/etc/systemd/system/condor.service"')
    # trixie's cloud-init (25.1) falls back to DHCPv4 and DHCPv6 on the first NIC; slirp answers no
    # DHCPv6, and ifupdown's `dhclient -6` then holds networking.service (and cloud-init's network
    # stage behind it) for minutes. IPv4 only, on the NIC scripts/vm/boot.sh puts in PCI slot 7.
    # The VM's own name in /etc/hosts, as a site's DNS would resolve it: here no DNS server is
    # reachable, and every HTCondor daemon and tool retries an unresolved own name (EAI_AGAIN) 20
    # times, 3 s apart, before it starts (verified: condor_master took 115 s to start).
    FLAVOUR_CLOUD_CFG='# DHCPv4 only: slirp has no DHCPv6 server (images/build-image.sh, flavour htcondor).
network:
  version: 2
  ethernets:
    enp0s7:
      dhcp4: true
# The host name resolves without DNS (none is reachable): 127.0.1.1 in /etc/hosts.
manage_etc_hosts: true'
    ;;
  *) say "unknown flavour $flavour (default or htcondor)"; exit 64 ;;
esac

# The Debian mirrors apt uses on this machine, as one-line sources: never hard-coded. They are
# configured for $HOST_SUITE; another flavour's $SUITE takes the same mirrors and components
# (bookworm-security -> trixie-security and so on).
mirror_lines() {
  if [ "$SUITE" = "$HOST_SUITE" ]; then host_mirror_lines; else host_mirror_lines | awk -v from="$HOST_SUITE" -v to="$SUITE" '{ sub("^" from, to, $3); print }'; fi
}
host_mirror_lines() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$HOST_SUITE" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && uris != "") {
          n = split(suites, s, " "); m = split(uris, u, " ")
          for (i = 1; i <= n; i++) if (s[i] ~ "^" suite "(-updates|-security)?$")
            for (j = 1; j <= m; j++) print "deb " u[j] " " s[i] " " comps
        }
        types = uris = suites = comps = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
      END { flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$HOST_SUITE" '$1 == "deb" && $0 !~ /\[/ && $3 ~ "^" suite "(-updates|-security)?$"' "$f"
  done
}

cloud_cfg() {
  # Settings for all three datasources; only the list says which is used (ci.ds= can override it).
  # OpenStack and Ec2 values: vm-e2e.md, "cloud-init with the OpenStack / EC2 datasource".
  cat <<EOF
# vacuum-agent test image (images/build-image.sh)
datasource_list: [ $datasource, None ]
datasource:
  OpenStack:
    metadata_urls: [ 'http://169.254.169.254' ]
    max_wait: 60
    timeout: 5
    retries: 2
  Ec2:
    metadata_urls: [ 'http://169.254.169.254' ]
    max_wait: 60
    timeout: 5
    strict_id: false
# No openssh and no locales in the image: skip what would only fail and log tracebacks.
ssh_genkeytypes: []
ssh_deletekeys: false
locale: false
EOF
  [ -z "$FLAVOUR_CLOUD_CFG" ] || printf '%s\n' "$FLAVOUR_CLOUD_CFG"
}

# At power-off, the logs go to the spare disk with serial "outdisk" as a tar, so the host reads
# them even when the network or the user_data failed (vm-e2e.md "Results back to the host").
OUTDISK_SCRIPT='#!/bin/sh
# vacuum-agent test image: copy the logs to the out-disk at power-off (images/build-image.sh).
dev=/dev/disk/by-id/virtio-outdisk
[ -b "$dev" ] || exit 0
o=/run/vacuum-e2e-out
mkdir -p "$o"
journalctl -b --no-pager -o short-monotonic > "$o/journal.txt" 2>&1
cat /proc/uptime > "$o/uptime-at-save.txt"
lsblk -o NAME,SIZE,FSTYPE,MOUNTPOINT,SERIAL > "$o/lsblk.txt" 2>&1
hostname > "$o/hostname.txt"
iptables -S OUTPUT > "$o/iptables-output.txt" 2>&1
set --
for p in run/vacuum-e2e-out var/log/cloud-init.log var/log/cloud-init-output.log run/cloud-init \
    var/lib/cloud/data var/log/vacuum-agent var/log/vacuum-agent-bootstrap.log var/lib/vacuum-agent \
    var/spool/joboutputs; do
  [ -e "/$p" ] && set -- "$@" "$p"
done
tar -C / -cf "$dev" --ignore-failed-read "$@" 2>/dev/null
sync
'
OUTDISK_UNIT='[Unit]
Description=vacuum-agent test image: logs to the out-disk at power-off
DefaultDependencies=no
After=systemd-remount-fs.service
Before=cloud-init-local.service shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/usr/local/sbin/vacuum-e2e-outdisk
TimeoutStopSec=30

[Install]
WantedBy=sysinit.target
'

recipe() {
  printf 'recipe %s\nsuite %s\npackages %s\ndisk %s\n' "$RECIPE" "$SUITE" "$PACKAGES" "$DISK_SIZE"
  [ "$flavour" = default ] || printf 'flavour %s\n' "$flavour"
  mirror_lines
  cloud_cfg
  sha256sum < "$HERE/build-image.sh"
}
dir() { echo "$CACHE/$NAME-$(recipe | sha256sum | cut -c1-12)"; }

install_host_tools() {
  local missing=() p t0
  for p in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  t0=$(now)
  say "installing host tools: ${missing[*]}"
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o APT::Keep-Downloaded-Packages=true "${missing[@]}" </dev/null >&2
  say "installed ${missing[*]} in $(since "$t0") s"
}

build() {
  local d t0 t1 rootfs sources
  d=$(dir)
  # The directory's mtime says when it was last used: older images go after a day unused.
  if [ -e "$d/.complete" ]; then touch "$d"; say "cached: $d"; echo "$d"; return 0; fi
  [ "$(id -u)" -eq 0 ] || { say "must run as root (mmdebstrap, mkfs.ext4 -d with owners)"; exit 1; }
  install_host_tools
  mkdir -p "$CACHE"
  # One builder at a time per recipe; a second caller waits and then finds it cached.
  exec 9>"$d.lock"
  flock 9
  if [ -e "$d/.complete" ]; then say "cached: $d"; echo "$d"; return 0; fi
  t0=$(now)
  rm -rf --one-file-system "$d" "$d.tmp"
  mkdir -p "$d.tmp"
  rootfs=$d.tmp/rootfs
  sources=$d.tmp/sources.list
  mirror_lines > "$sources"
  [ -s "$sources" ] || { say "no $SUITE mirror found in /etc/apt/sources.list*"; exit 1; }
  say "mirrors: $(awk '{print $2" "$3}' "$sources" | tr '\n' ';')"
  cloud_cfg > "$d.tmp/99-vacuum-e2e.cfg"
  printf '%s' "$OUTDISK_SCRIPT" > "$d.tmp/vacuum-e2e-outdisk"
  printf '%s' "$OUTDISK_UNIT" > "$d.tmp/vacuum-e2e-outdisk.service"
  t1=$(now)
  # minbase + the list; the customize hooks run with the finished rootfs in "$1".
  mmdebstrap --variant=minbase --include="$PACKAGES" \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --customize-hook='printf "/dev/vda / ext4 defaults 0 1\n" > "$1/etc/fstab"' \
    --customize-hook=': > "$1/etc/machine-id"; rm -f "$1/var/lib/dbus/machine-id"' \
    --customize-hook='printf "127.0.0.1 localhost\n" > "$1/etc/hosts"' \
    --customize-hook="cp '$d.tmp/99-vacuum-e2e.cfg' \"\$1/etc/cloud/cloud.cfg.d/99-vacuum-e2e.cfg\"" \
    --customize-hook="install -m 0755 '$d.tmp/vacuum-e2e-outdisk' \"\$1/usr/local/sbin/vacuum-e2e-outdisk\"" \
    --customize-hook="install -m 0644 '$d.tmp/vacuum-e2e-outdisk.service' \"\$1/etc/systemd/system/vacuum-e2e-outdisk.service\"" \
    --customize-hook='mkdir -p "$1/etc/systemd/system/sysinit.target.wants"; ln -sf ../vacuum-e2e-outdisk.service "$1/etc/systemd/system/sysinit.target.wants/vacuum-e2e-outdisk.service"' \
    "${FLAVOUR_HOOKS[@]}" \
    --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*; rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
    "$SUITE" "$rootfs" "$sources" >&2
  say "rootfs (mmdebstrap) in $(since "$t1") s, $(du -sm "$rootfs" | cut -f1) MB"
  t1=$(now)
  cp -L "$rootfs"/boot/vmlinuz-* "$d.tmp/vmlinuz"
  cp -L "$rootfs"/boot/initrd.img-* "$d.tmp/initrd.img"
  dpkg-query --admindir="$rootfs/var/lib/dpkg" -W -f='${Package} ${Version}\n' > "$d.tmp/packages.txt"
  # ext4 from the directory: no loop device, no mount; the owners are kept (we are root).
  mkfs.ext4 -q -F -L vacuum-root -d "$rootfs" "$d.tmp/root.raw" "$DISK_SIZE" >&2
  rm -rf --one-file-system "$rootfs" "$sources"
  say "root.raw (mkfs.ext4 -d) in $(since "$t1") s"
  recipe > "$d.tmp/.complete"
  mv "$d.tmp" "$d"
  find "$CACHE" -mindepth 1 -maxdepth 1 -name "$NAME-*" ! -name "${d##*/}" ! -name "${d##*/}.*" -mtime +1 \
    -exec rm -rf --one-file-system {} + 2> /dev/null || true
  say "built $d in $(since "$t0") s (kernel $(grep '^linux-image-[0-9]' "$d/packages.txt" | cut -d' ' -f1), cloud-init $(awk '$1=="cloud-init"{print $2}' "$d/packages.txt"))"
  echo "$d"
}

case $cmd in
  build) build ;;
  path) dir ;;
esac
