import type { Context } from "../../context/context.ts";

/**
 * The manager's job outputs URL with the VM's token as its credentials (`vm:<token>@`), which the
 * job outputs target sends as Basic auth; null when no manager is configured. The token comes
 * either inside the URL already or as manager.token ({{vacuum.vm_token}} in the template).
 */
export function managerJoboutputsUrl(ctx: Context): string | null {
  const { joboutputs_url: url, token } = ctx.config.manager;
  if (!url) return null;
  const trimmed = url.replace(/\/+$/, "");
  if (!token) return trimmed;
  try {
    const u = new URL(trimmed);
    u.username = "vm";
    u.password = encodeURIComponent(token);
    return u.toString().replace(/\/+$/, "");
  } catch {
    return trimmed;
  }
}
