#!/usr/bin/env bash
# Boots the test image (images/build-image.sh) once under qemu with software emulation, the way
# ../shared/reference/vm-e2e.md verified it, and prints the boot timeline.
#
#   scripts/vm/boot.sh --out DIR [--user-data FILE] [--datasource NoCloud|OpenStack|Ec2]
#       [--forward ADDR:PORT=HOSTPORT]... [--forward-cmd ADDR:PORT=COMMAND]... [--scratch SIZE]
#       [--timeout SECONDS] [--hostname NAME] [--instance-id ID] [--append KERNEL-ARGS] [--smp N]
#       [--mem MB] [--image DIR] [--vendor-data FILE]
#
# - TCG only (`-accel tcg,thread=multi`): /dev/kvm here is a nested device that aborts qemu.
# - A fresh qcow2 overlay on the cached raw image and a unique instance-id per boot, or cloud-init
#   takes the VM for one it already set up and skips the user_data.
# - NoCloud seed: an ISO (label cidata) with user-data (--user-data), meta-data and vendor-data
#   (--vendor-data: what the platform adds, e.g. a test's own shell script; default empty).
#   With --datasource OpenStack|Ec2 the ISO is still attached (label "padding") and `ci.ds=` on
#   the kernel command line makes cloud-init use that datasource instead; OpenStack also gets
#   the DMI product name "OpenStack Nova" its datasource checks for.
# - Disks, in this order (virtio, fixed PCI slots): vda the root overlay, vdb the blank scratch
#   disk (--scratch 1G) when asked for, then the seed ISO, then the out-disk (serial "outdisk", a
#   blank raw file the image writes its logs to as a tar at power-off). The out-disk is never
#   vdb: the agent formats a blank vdb as /scratch.
# - Network: qemu's user network moved onto 169.254.169.0/24 with `restrict=on`, so nothing the
#   guest sends leaves this machine: the guest reaches the host only through the guestfwd rules
#   given with --forward (each connection runs `nc 127.0.0.1 HOSTPORT`), e.g.
#   --forward 169.254.169.253:80=8080 (a Vac factory) --forward 169.254.169.254:80=8080 (the
#   metadata service). --forward-cmd runs COMMAND instead of nc for each connection (through
#   /bin/sh, the connection on its stdin and stdout), e.g. --forward-cmd
#   '169.254.169.9:9618=nsenter --net=/proc/PID/ns/net nc 169.254.169.9 9618' reaches a server in
#   a network namespace of ours; COMMAND cannot hold a comma (qemu's -netdev syntax).
#   169.254.169.254:80 always has a rule: without --forward for it, each
#   connection is closed at once, so a metadata probe fails fast instead of timing out.
# - Each boot runs under `timeout` (240 s by default) and is retried once, with a new overlay,
#   when console.log shows a `soft lockup` (seen with TCG on the generic kernel).
#
# DIR receives: console.log, boot.env (times on the host clock, exit state), guest/ (the
# out-disk's files: cloud-init logs, the agent's logs, /var/spool/joboutputs), timeline.md.
# Exit status: 0 when the guest powered itself off within the time limit, 1 otherwise.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

out='' user_data='' vendor_data='' datasource=NoCloud scratch='' timeout_s=240 hostname_='' instance_id='' append='' smp=2 mem=1536 image=''
forwards=() forward_cmds=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift ;;
    --user-data) user_data=$2; shift ;;
    --vendor-data) vendor_data=$2; shift ;;
    --datasource) datasource=$2; shift ;;
    --forward) forwards+=("$2"); shift ;;
    --forward-cmd) forward_cmds+=("$2"); shift ;;
    --scratch) scratch=$2; shift ;;
    --timeout) timeout_s=$2; shift ;;
    --hostname) hostname_=$2; shift ;;
    --instance-id) instance_id=$2; shift ;;
    --append) append=$2; shift ;;
    --smp) smp=$2; shift ;;
    --mem) mem=$2; shift ;;
    --image) image=$2; shift ;;
    *) echo "boot: unknown argument $1 (see the comment at the top of $0)" >&2; exit 64 ;;
  esac
  shift
done
[ -n "$out" ] || { echo "boot: --out DIR is required" >&2; exit 64; }
case $datasource in NoCloud | OpenStack | Ec2) ;; *) echo "boot: --datasource NoCloud, OpenStack or Ec2" >&2; exit 64 ;; esac
[ -z "$user_data" ] || [ -r "$user_data" ] || { echo "boot: cannot read $user_data" >&2; exit 64; }
[ -z "$vendor_data" ] || [ -r "$vendor_data" ] || { echo "boot: cannot read $vendor_data" >&2; exit 64; }

now() { date +%s.%N; }
say() { echo "boot: $*" >&2; }

[ -n "$image" ] || image=$("$ROOT/images/build-image.sh" build)
for f in vmlinuz initrd.img root.raw; do [ -r "$image/$f" ] || { say "no $image/$f"; exit 1; }; done
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/work
rm -rf "$work" "$out/guest"
mkdir -p "$work/seed" "$out/guest"

[ -n "$instance_id" ] || instance_id=vacuum-e2e-$(cut -c1-8 /proc/sys/kernel/random/uuid)
[ -n "$hostname_" ] || hostname_=$instance_id
printf 'instance-id: %s\nlocal-hostname: %s\n' "$instance_id" "$hostname_" > "$work/seed/meta-data"
# An empty vendor-data: NoCloud asks for it, and over HTTP a 404 costs retries.
printf '#cloud-config\n{}\n' > "$work/seed/vendor-data"
[ -z "$vendor_data" ] || cp "$vendor_data" "$work/seed/vendor-data"
if [ -n "$user_data" ]; then cp "$user_data" "$work/seed/user-data"; else printf '#cloud-config\n{}\n' > "$work/seed/user-data"; fi
label=cidata
[ "$datasource" = NoCloud ] || label=padding
genisoimage -quiet -output "$work/seed.iso" -volid "$label" -joliet -rock "$work/seed"

netdev="user,id=n0,net=169.254.169.0/24,host=169.254.169.2,dhcpstart=169.254.169.15,restrict=on"
metadata_forwarded=0
for f in "${forwards[@]}"; do
  [[ $f =~ ^([0-9.]+):([0-9]+)=([0-9]+)$ ]] || { say "--forward $f: expected ADDR:PORT=HOSTPORT"; exit 64; }
  netdev+=",guestfwd=tcp:${BASH_REMATCH[1]}:${BASH_REMATCH[2]}-cmd:nc 127.0.0.1 ${BASH_REMATCH[3]}"
  [ "${BASH_REMATCH[1]}:${BASH_REMATCH[2]}" = 169.254.169.254:80 ] && metadata_forwarded=1
done
for f in "${forward_cmds[@]}"; do
  [[ $f =~ ^([0-9.]+):([0-9]+)=([^,]+)$ ]] || { say "--forward-cmd $f: expected ADDR:PORT=COMMAND (no comma in COMMAND)"; exit 64; }
  netdev+=",guestfwd=tcp:${BASH_REMATCH[1]}:${BASH_REMATCH[2]}-cmd:${BASH_REMATCH[3]}"
  [ "${BASH_REMATCH[1]}:${BASH_REMATCH[2]}" = 169.254.169.254:80 ] && metadata_forwarded=1
done
[ "$metadata_forwarded" = 1 ] || netdev+=",guestfwd=tcp:169.254.169.254:80-cmd:true"

cmdline="root=/dev/vda rw console=ttyS0 panic=-1 ci.ds=$datasource${append:+ $append}"
smbios=()
[ "$datasource" = OpenStack ] && smbios=(-smbios "type=1,product=OpenStack Nova")

boot_once() {
  rm -f "$work/overlay.qcow2" "$work/out.raw" "$work/scratch.raw" "$out/console.log"
  qemu-img create -q -f qcow2 -b "$image/root.raw" -F raw "$work/overlay.qcow2"
  truncate -s 64M "$work/out.raw"
  local disks=(-drive "file=$work/overlay.qcow2,format=qcow2,if=none,id=root,cache=unsafe"
    -device virtio-blk-pci,drive=root,bus=pcie.0,addr=0x3)
  if [ -n "$scratch" ]; then
    truncate -s "$scratch" "$work/scratch.raw"
    disks+=(-drive "file=$work/scratch.raw,format=raw,if=none,id=scratch,cache=unsafe"
      -device virtio-blk-pci,drive=scratch,serial=scratch,bus=pcie.0,addr=0x4)
  fi
  disks+=(-drive "file=$work/seed.iso,format=raw,if=none,id=seed,readonly=on"
    -device virtio-blk-pci,drive=seed,serial=seed,bus=pcie.0,addr=0x5
    -drive "file=$work/out.raw,format=raw,if=none,id=out,cache=unsafe"
    -device virtio-blk-pci,drive=out,serial=outdisk,bus=pcie.0,addr=0x6)
  qemu_start=$(now)
  timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -machine q35 \
    -smp "$smp" -m "$mem" -display none -no-reboot -nodefaults -monitor none \
    -serial "file:$out/console.log" -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -append "$cmdline" "${smbios[@]}" "${disks[@]}" \
    -netdev "$netdev" -device virtio-net-pci,netdev=n0,bus=pcie.0,addr=0x7 \
    -device virtio-rng-pci,bus=pcie.0,addr=0x8 > "$work/qemu.log" 2>&1 &
  local pid=$! rc=0
  lockup=0
  while kill -0 "$pid" 2> /dev/null; do
    if grep -q 'soft lockup' "$out/console.log" 2> /dev/null; then
      lockup=1
      say "soft lockup in console.log: stopping this boot"
      kill "$pid" 2> /dev/null || true
      break
    fi
    sleep 1
  done
  wait "$pid" || rc=$?
  qemu_end=$(now)
  qemu_rc=$rc
}

attempts=0
while :; do
  attempts=$((attempts + 1))
  say "attempt $attempts: qemu (TCG, $smp CPUs, $mem MB), datasource $datasource, instance $instance_id, limit ${timeout_s} s"
  boot_once
  [ "$lockup" = 1 ] && [ "$attempts" -lt 2 ] && continue
  break
done

# The guest's logs: the out-disk's tar; failing that (the guest never reached an orderly
# power-off: a hang, or the watchdog's `systemctl poweroff --force`, which stops no unit), the logs,
# the agent's state and the job outputs spool straight from the overlay's ext4 with debugfs (no
# mount, no loop device).
# (tar reads a disk the guest never wrote, all zeros, as an empty archive: that counts as no tar.)
if tar -xf "$work/out.raw" -C "$out/guest" 2> "$work/untar.log" && [ -n "$(ls -A "$out/guest")" ]; then
  guest_logs=outdisk
else
  guest_logs=none
  if qemu-img convert -O raw "$work/overlay.qcow2" "$work/disk.raw" 2> /dev/null; then
    mkdir -p "$out/guest/var/log" "$out/guest/var/lib" "$out/guest/var/spool"
    for f in /var/log/cloud-init.log /var/log/cloud-init-output.log /var/log/vacuum-agent-bootstrap.log; do
      debugfs -R "dump $f $out/guest$f" "$work/disk.raw" > /dev/null 2>&1 || true
    done
    for d in /var/log/vacuum-agent:/var/log /var/lib/vacuum-agent:/var/lib /var/spool/joboutputs:/var/spool /var/log/journal:/var/log; do
      debugfs -R "rdump ${d%%:*} $out/guest${d#*:}" "$work/disk.raw" > /dev/null 2>&1 || true
    done
    rm -f "$work/disk.raw"
    guest_logs=debugfs
  fi
fi

powered_off=0
grep -q 'reboot: Power down' "$out/console.log" 2> /dev/null && powered_off=1
timed_out=0
case $qemu_rc in 124 | 137) timed_out=1 ;; esac
cat > "$out/boot.env" <<EOF
qemu_start=$qemu_start
qemu_end=$qemu_end
qemu_rc=$qemu_rc
attempts=$attempts
soft_lockup=$lockup
timed_out=$timed_out
powered_off=$powered_off
guest_logs=$guest_logs
datasource=$datasource
instance_id=$instance_id
timeout=$timeout_s
EOF
say "qemu exit $qemu_rc after $(awk -v a="$qemu_start" -v b="$qemu_end" 'BEGIN { printf "%.1f", b - a }') s; powered off: $powered_off; logs: $guest_logs"
"$ROOT/node_modules/.bin/bun" "$ROOT/scripts/vm/timeline.ts" "$out" | tee "$out/timeline.md" || say "no timeline"
[ "$powered_off" = 1 ] && [ "$timed_out" = 0 ]
