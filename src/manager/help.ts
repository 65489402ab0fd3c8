// The manager's command line, as operators and site admins rely on it. Stable: change only by adding.

export const MANAGER_EXIT = {
  ok: 0,
  /** validate: Vac or Vcycle would reject or mishandle it; render/export: refused. */
  failed: 1,
  usage: 64,
  internal: 70,
} as const;

export const MANAGER_HELP = `Usage:
  manager validate FILE [--json]
  manager render TEMPLATE|- [--set NAME=VALUE]... [--option X=VALUE]... [--file X=PATH]...
                 [--proxy FILE] [--manager vac|vcycle] [--json]
  manager export DEFINITION.json DIR [--json]
  manager serve DEFINITION.json [--listen HOST:PORT] (--cert FILE --key FILE [--client-ca DIR|FILE] | --http)
                [--state DIR [--metadata loopback|all|off]]
  manager --version
  manager --help

validate checks a vacuum pipe (any JSON document with a top-level "machinetypes", or a FILE
ending in .pipe: what a site admin checks before listing a pipe) the way Vac 03.00 and Vcycle
03.00 read it, or a manager definition (with "pipes"): its schema, the pipes it would publish
and its user_data templates. Every problem is printed with its path and what Vac and Vcycle do
with it. Exit 1 when Vac or Vcycle would reject or mishandle it (a skipped type, an aborted
cycle, a poisoned cache); exit 0 when both accept it, with a warning for anything risky.

render prints TEMPLATE rendered exactly as Vac and Vcycle render user_data: the substitutions in
their order, values inserted raw, options (user_data_option_X) and files (user_data_file_X:
the file's contents), then every leftover ##user_data_[a-z,0-9,_]*## removed.
  --set NAME=VALUE      url, site, space, machinetype, machine_hostname, manager_version,
                        manager_hostname, machinefeatures_url, jobfeatures_url, joboutputs_url,
                        root_image_url, heartbeat_machines_url, uuid
  --option X=VALUE      user_data_option_X
  --file X=PATH         user_data_file_X (fills ##user_data_file_X## and ##user_data_option_X##)
  --proxy FILE          the proxy PEM for ##user_data_option_x509_proxy## (user_data_proxy = true)
  --manager vac|vcycle  what that implementation fills by itself: vac adds a random uuid and the
                        http://169.254.169.253 MJF URLs and never fills heartbeat_machines_url;
                        vcycle never fills uuid and builds the MJF URLs from manager_hostname,
                        space and machine_hostname
  --json                print {"text", "problems"} instead of the text

export writes DEFINITION's content as a static tree for any web server or CVMFS: DIR/pipes/<name>.pipe
and DIR/user_data/<name>-<suffix>.template, DIR/agents/NAME with DIR/agents/NAME.sha256, and
DIR/pilots/NAME/ with checksums.sha512 and index.html, into a temporary directory first and then
renamed into place. It refuses an invalid definition (exit 1) and then leaves DIR untouched; so
too a template with per-VM placeholders ({{vacuum.vm_token}}…), which only serve can fill.

serve publishes the same content from memory over HTTPS (or plain HTTP with --http) at
/pipes/<name>.pipe and /user_data/<name>-<suffix>.template, and under base_url's path too.
Pipes carry ETag and Last-Modified, answer 304 and are gzipped when the client accepts it;
templates are sent with Cache-Control: no-store. Every error is an empty body with its status.
It prints its URL as the first line of standard output and logs each request (with its
User-Agent) to standard error. A change to DEFINITION, a template or a pilot directory (seen by a
file watch), or SIGHUP, reads DEFINITION again and swaps it in only if it validates; otherwise it
logs every problem and keeps serving the last good one. SIGTERM or
SIGINT stop it (exit 0). An invalid definition at start is refused (exit 1).
  --listen HOST:PORT    default 127.0.0.1:8443; port 0 picks a free one
  --cert FILE --key FILE  the server certificate (chain) and its key, PEM
  --http                plain HTTP, for a TLS-terminating proxy in front
It also publishes the definition's agents (/agents/NAME with X-Checksum-Sha256, and
/agents/NAME.sha256; with --state also /agents/NAME.zst and .gz, made in the background into
DIR/agent-cache) and pilot directories (/pilots/NAME/, with a generated checksums.sha512).

With --state DIR it is also the VMs' side, under /vms/<pipe>-<suffix>/<vm-id>/:
  PUT joboutputs/<name>     a job output (written atomically and fsynced before the 201) or the
                            heartbeat (heartbeat_file, vm-heartbeat: kept in memory, the latest per
                            VM, written to DIR/vm-state.jsonl every few seconds); flat names only,
                            at most 32 MiB (a heartbeat 4 KiB). Authenticated by the VM's token
                            (Authorization: Bearer TOKEN, or Basic with TOKEN as the password, as
                            https://vm:TOKEN@host/... sends it), or by a client certificate or an
                            RFC 3820 proxy of one whose DN starts with one of the machinetype's
                            client_dn_prefixes (needs --client-ca). 401 without either, 403 wrong.
  GET machinefeatures/KEY, jobfeatures/KEY   Machine/Job Features for that VM
  GET metadata/openstack/latest/meta_data.json, metadata/openstack/latest/user_data,
      metadata/latest/user-data, metadata/latest/meta-data/...
                            an OpenStack/EC2 metadata emulation: the VM's template rendered with
                            this manager as the site, so that
                              agent run --root DIR --metadata-url URL/vms/<pipe>-<suffix>/<id>/metadata
                            runs a whole VM lifecycle against the manager. It hands out the VM's
                            token, so by default it answers loopback clients only.
Templates may hold {{vacuum.NAME}} placeholders, filled in each copy served (before Vac or Vcycle
substitute ##user_data_*##): vm_id, vm_token (a fresh VM id and its token per copy), machinetype,
manager_url, vm_url, joboutputs_url, machinefeatures_url, jobfeatures_url, agent_url[.NAME],
agent_sha256[.NAME]. A token is HMAC-SHA256(DIR/vm-token.key, machinetype, vm id): checking it
needs no lookup; deleting the key revokes every token.
GET /status.json, /status (HTML) and /metrics (Prometheus) show the VMs: machinetype, VM id,
space (from the agent's uploaded context), state (starting, running, stale, finished), the age of
the last heartbeat, the shutdown_message and the agent's boot timeline; newest first, filtered by
?machinetype=, ?state=, at most ?limit= (default 500).
  --state DIR           the token key (0600), job outputs (DIR/vms/...) and VM records
  --client-ca DIR|FILE  CA certificates (a grid CA directory or a PEM file) of client certificates
  --metadata loopback|all|off  who may read the metadata emulation (default loopback)

Exit codes:
  0   valid (maybe with warnings); rendered; exported; served until SIGTERM
  1   invalid: Vac or Vcycle would reject or mishandle it; render, export or serve refused
  64  command-line usage error
  70  internal error
`;
