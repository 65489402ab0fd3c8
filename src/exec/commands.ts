// Every external program the agent runs, by name, in one table (ignition's distro.go): a new
// dependency on the host is a visible line here, and black-box tests can map each name to a stub.
// Absolute paths because the agent may start with a bare environment (systemd, cloud-init) where
// PATH is empty or odd; the paths are the merged-/usr locations of EL8/EL9, Debian and Ubuntu.

export const COMMANDS = {
  blkid: "/usr/sbin/blkid",
  cvmfs_config: "/usr/bin/cvmfs_config",
  chmod: "/usr/bin/chmod",
  fallocate: "/usr/bin/fallocate",
  groupadd: "/usr/sbin/groupadd",
  hostname: "/usr/bin/hostname",
  hostnamectl: "/usr/bin/hostnamectl",
  iptables: "/usr/sbin/iptables",
  ip6tables: "/usr/sbin/ip6tables",
  "mkfs.ext4": "/usr/sbin/mkfs.ext4",
  "mkfs.xfs": "/usr/sbin/mkfs.xfs",
  mkswap: "/usr/sbin/mkswap",
  mount: "/usr/bin/mount",
  openssl: "/usr/bin/openssl",
  poweroff: "/usr/sbin/poweroff",
  runuser: "/usr/sbin/runuser",
  setpriv: "/usr/bin/setpriv",
  shutdown: "/usr/sbin/shutdown",
  swapon: "/usr/sbin/swapon",
  sysctl: "/usr/sbin/sysctl",
  systemctl: "/usr/bin/systemctl",
  umount: "/usr/bin/umount",
  useradd: "/usr/sbin/useradd",
  usermod: "/usr/sbin/usermod",
} as const;

export type CommandName = keyof typeof COMMANDS;

/** The PATH every child gets, whatever the agent's own environment was (toolchain.md P4/P5). */
export const CHILD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Where commands are really found. `stubDir` sends every table command to `<stubDir>/<name>`
 * (and is put first on the children's PATH), so a missing stub fails loudly instead of
 * reaching the real program; `paths` overrides single names.
 */
export interface CommandOverrides {
  stubDir?: string;
  paths?: Partial<Record<CommandName, string>>;
}

export const isCommandName = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

export function commandPath(name: CommandName, overrides: CommandOverrides = {}): string {
  const mapped = overrides.paths?.[name];
  if (mapped !== undefined) return mapped;
  if (overrides.stubDir !== undefined) return `${overrides.stubDir.replace(/\/+$/, "")}/${name}`;
  return COMMANDS[name];
}

/** PATH for a child: the fixed one, with the stub directory first when tests ask for it. */
export const childPath = (overrides: CommandOverrides = {}): string =>
  overrides.stubDir === undefined ? CHILD_PATH : `${overrides.stubDir}:${CHILD_PATH}`;
