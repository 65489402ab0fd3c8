// The command line that site admins and scripts rely on. Stable: change only by adding.

export const EXIT = {
  ok: 0,
  /** run: the VM ended with a failure code or refused to start; validate: errors; status: failed. */
  failed: 1,
  /** run: finished with warnings; validate: warnings only; status: degraded. */
  degraded: 2,
  usage: 64,
  internal: 70,
} as const;

export const HELP = `Usage:
  agent run [--user-data FILE|-] [--metadata-url URL|none] [--metadata-wait SECONDS] [--config-drive DIR]
            [--root DIR] [--dry-run] [--json] [--set KEY=VALUE]...
  agent --dry-run [...]          the same as: agent run --dry-run [...]
  agent validate [FILE|-] [--json]   (without FILE: the user_data that run would read)
  agent status [--root DIR] [--json]
  agent --version
  agent --help

run reads the user_data (from --user-data, else the metadata service), the metadata service,
Machine/Job Features and the environment, plans every stage, performs the plan, writes the
shutdown_message and powers the VM off.

Options:
  --user-data FILE|-    read the user_data from FILE or standard input instead of the metadata service
  --metadata-url URL    ask this base URL for every metadata variant (OpenStack, EC2, Vac, GCE) instead
                        of 169.254.169.254; "none" uses no metadata service (then --user-data is needed).
                        Machine/Job Features and job outputs URLs on 169.254.169.253/254 (Vac's factory)
                        are then sent to URL too, so a test never reaches the link-local addresses
  --metadata-wait SECONDS  how long to keep asking a metadata service that does not answer (default 120;
                        0 with --user-data, where the metadata service only adds identity and MJF locations)
  --config-drive DIR    read an OpenStack config drive's files from DIR
  --root DIR            put every path under DIR and record machine-wide actions (host name, mounts,
                        accounts, firewall, power-off) in DIR/var/lib/vacuum-agent/machine-actions.jsonl
                        instead of performing them: a whole run as an ordinary user
  --dry-run             print the exact plan (files with mode and contents, commands, URLs, deadlines;
                        secrets redacted) and change nothing
  --json                machine-readable output (plan, problems, status)
  --set KEY=VALUE       set a configuration key (dotted path, e.g. payload.dirac.queue=default);
                        highest precedence
  --version             print version and git commit
  --help                print this help

Exit codes:
  0   success (run: the VM's work ended well; validate: no problem; status: healthy or running)
  1   failure (run: a fatal problem or a failed stage; validate: errors; status: failed)
  2   degraded (run or validate: warnings; status: degraded)
  64  command-line usage error
  70  internal error

Files: /var/lib/vacuum-agent/status.json, /var/lib/vacuum-agent/context.json,
/var/log/vacuum-agent/agent.jsonl, /var/spool/joboutputs/shutdown_message
`;
