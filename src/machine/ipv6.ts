// Whether the kernel has IPv6 at all. Booted with ipv6.disable=1 it has no /proc/net/if_inet6 and
// ip6tables cannot work; there is then no IPv6 path to any metadata address either.
// (sysctl disable_ipv6=1 keeps the file, and ip6tables works.)

import { existsSync } from "node:fs";
import { posix } from "node:path";

export const probeIpv6 = (sysRoot = "/"): boolean => existsSync(posix.join(sysRoot, "/proc/net/if_inet6"));
