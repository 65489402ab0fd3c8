#!/usr/bin/env python3
"""A test double of DIRACGrid/Pilot's dirac-pilot.py that behaves as the real one does at its edges.

- The same getopt option table (pilotTools.py cmdOpts @ 7789402), parsed twice with getopt.getopt:
  an unknown option is an uncaught getopt.GetoptError (traceback, exit 1).
- pilot.json read from the working directory (or -F): missing -> FileNotFoundError traceback,
  exit 1. Old schema if it has a top-level "Setups", else new. New schema: the VO from --wnVO,
  else $DIRAC_PILOT_VO, else the /<vo>/Role= attribute of $X509_USER_PROXY, else
  NotImplementedError when that file has none (a host certificate): the real pilot dies there.
  No ConfigurationServers in the new schema -> KeyError traceback, exit 1.
- X509_CERT_DIR, X509_VOMS_DIR, X509_VOMSES: the first CVMFS_locations entry with a non-empty
  etc/grid-security/<dir>, else the environment's non-empty directory, else
  "Could not find/set <VAR>" and exit 1.
- A command it cannot instantiate: "Command X could not be instantiated", exit 255 (sys.exit(-1)).
- With LaunchAgent in the command list it writes JobAgent lines in DIRAC's gLogger format and
  exits 0 whatever happened, as the real one does.

Test controls (environment):
  DIRAC_TEST_PILOT_SCENARIO   job (default) | no-match | version-mismatch | payload-failure |
                              hang | drain | drain-idle | crash; else read from ./scenario
  DIRAC_DRAIN_FILE            the drain file the JobAgent watches; else the path written in
                              ./drain-file (an agent run under --root creates its drain file under
                              that root, where the real pilot's fixed path cannot follow); else
                              /var/lib/dirac_drain, as the real JobAgent
  DIRAC_TEST_PILOT_RECORD     where argv, interpreter and environment are recorded as JSON (default
                              ./pilot-record.json); values of secret-looking names are dropped
  DIRAC_TEST_PILOT_DUMP_OPTIONS=1   print the option table as JSON and exit 0
  ./stderr                    when present, its contents are written to stderr at start (the
                              pilot writes nothing else there unless it fails)

What a test can read in the pilot's stdout (the agent uploads it; a VM's files stay in the VM):
the first line `vacuum-mark payload-start EPOCH` (scripts/vm/timeline.ts: the payload's first
instruction on the boot timeline), then `test pilot: running as USER (uid N) in CWD`,
`test pilot: argv [JSON]` and `test pilot: env {JSON}` (the variables of SHOWN_ENV that are set);
with --cert, `test pilot: --cert hostcert.pem: readable, N certificate(s), a private key` (or why
not) for hostcert.pem and hostkey.pem of --certLocation.
"""

import getopt
import json
import os
import re
import sys
import time
from datetime import datetime, timezone

CMD_OPTS = (
    ("", "requiredTag="),
    ("a:", "gridCEType="),
    ("c", "cert"),
    ("d", "debug"),
    ("e:", "extraPackages="),
    ("g:", "loggerURL="),
    ("h", "help"),
    ("k", "keepPP"),
    ("l:", "project="),
    ("n:", "name="),
    ("o:", "option="),
    ("m:", "maxNumberOfProcessors="),
    ("", "modules="),
    ("", "userEnvVariables="),
    ("", "pipInstallOptions="),
    ("r:", "release="),
    ("s:", "section="),
    ("t:", "tag="),
    ("u:", "url="),
    ("x:", "execute="),
    ("y:", "CEType="),
    ("z", "pilotLogging"),
    ("C:", "configurationServer="),
    ("D:", "disk="),
    ("E:", "commandExtensions="),
    ("F:", "pilotCFGFile="),
    ("G:", "Group="),
    ("K:", "certLocation="),
    ("M:", "MaxCycles="),
    ("", "PollingTime="),
    ("", "StopOnApplicationFailure="),
    ("", "StopAfterFailedMatches="),
    ("N:", "Name="),
    ("O:", "OwnerDN="),
    ("", "wnVO="),
    ("P:", "pilotProcessors="),
    ("Q:", "Queue="),
    ("R:", "reference="),
    ("S:", "setup="),
    ("T:", "CPUTime="),
    ("W:", "gateway="),
    ("X:", "commands="),
    ("Z:", "commandOptions="),
    ("", "pilotUUID="),
    ("", "preinstalledEnv="),
    ("", "preinstalledEnvPrefix="),
    ("", "architectureScript="),
    ("", "CVMFS_locations="),
)

BUILT_IN = [
    "CheckWorkerNode", "InstallDIRAC", "ConfigureBasics", "RegisterPilot", "CheckCECapabilities",
    "CheckWNCapabilities", "ConfigureSite", "ConfigureArchitecture", "ConfigureCPURequirements", "LaunchAgent",
]
KNOWN_COMMANDS = set(BUILT_IN) | {"ConfigureArchitectureWithoutCLI", "ReplaceDIRACCode"}
SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD", re.I)
PEM_CERT = re.compile(r"^-{5}BEGIN CERTIFICATE-{5}$", re.M)
PEM_KEY = re.compile(r"^-{5}BEGIN [A-Z ]*PRIVATE KEY-{5}$", re.M)
# What the agent hands the pilot, echoed on stdout for tests that cannot read pilot-record.json.
SHOWN_ENV = ("PILOT_UUID", "DIRAC_PILOT_VO", "HOME", "X509_CERT_DIR", "MACHINEFEATURES", "JOBFEATURES", "JOBOUTPUTS",
             "VACUUM_SPACE", "VACUUM_MACHINETYPE", "VACUUM_VM_UUID", "PATH")


def pilot_log(level, msg):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    print("%s %s [Pilot] %s" % (stamp, level, msg), flush=True)


def agent_log(level, msg):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    print("%s UTC WorkloadManagement/JobAgent %s: %s" % (stamp, level, msg), flush=True)


def show_self():
    try:
        import pwd
        user = pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        user = "?"
    print("test pilot: running as %s (uid %d) in %s" % (user, os.getuid(), os.getcwd()))
    print("test pilot: argv %s" % json.dumps(sys.argv[1:]))
    print("test pilot: env %s" % json.dumps({k: os.environ[k] for k in SHOWN_ENV if k in os.environ}), flush=True)
    if os.path.exists("stderr"):
        with open("stderr") as fp:
            sys.stderr.write(fp.read())
        sys.stderr.flush()


def show_cert_files(location):
    """What the real pilot hands DIRAC as /DIRAC/Security/CertFile and KeyFile with --cert."""
    for name in ("hostcert.pem", "hostkey.pem"):
        try:
            with open(os.path.join(location, name)) as fp:
                text = fp.read()
        except (IOError, OSError) as e:
            print("test pilot: --cert %s: %s" % (name, e.strerror))
            continue
        key = "a private key" if PEM_KEY.search(text) else "no private key"
        print("test pilot: --cert %s: readable, %d certificate(s), %s" % (name, len(PEM_CERT.findall(text)), key))


def record():
    path = os.environ.get("DIRAC_TEST_PILOT_RECORD", "pilot-record.json")
    env = {k: v for k, v in os.environ.items() if not SECRET_NAME.search(k)}
    with open(path, "w") as fp:
        json.dump({"argv": sys.argv, "cwd": os.getcwd(), "executable": sys.executable, "env": env}, fp, indent=1)


def parse():
    opts, _args = getopt.getopt(sys.argv[1:], "".join(o[0] for o in CMD_OPTS), [o[1] for o in CMD_OPTS])
    return opts


def vo_from_proxy(path):
    try:
        with open(path, "rb") as fp:
            data = fp.read()
    except IOError:
        return "unknown"
    m = re.search(rb"/([a-zA-Z0-9]+)/Role=", data)
    if m:
        return m.group(1).decode()
    raise NotImplementedError("Something went very wrong")


def as_list(v):
    return [s.strip() for s in v.split(",")] if isinstance(v, str) else [str(s).strip() for s in v]


def non_empty_dir(path):
    try:
        return bool(os.listdir(path))
    except OSError:
        return False


def main():
    if os.environ.get("DIRAC_TEST_PILOT_DUMP_OPTIONS") == "1":
        print(json.dumps([list(o) for o in CMD_OPTS]))
        return 0
    print("vacuum-mark payload-start %.6f" % time.time(), flush=True)
    record()
    show_self()
    p = {"ce": "", "queue": "", "setup": "", "wnVO": "", "cfg": "pilot.json", "grid": "", "maxCycles": 10, "stopAfter": 10,
         "cvmfs": ["/cvmfs/grid.cern.ch", "/cvmfs/dirac.egi.eu"], "ceType": "", "site": "", "cert": False, "certLocation": None,
         "commands": list(BUILT_IN), "extensions": [], "processors": 1, "version": "", "execute": None}
    for o, v in parse():  # first pass
        if o in ("-N", "--Name"):
            p["ce"] = v
        if o in ("-Q", "--Queue"):
            p["queue"] = v
        elif o in ("-a", "--gridCEType"):
            p["grid"] = v
        elif o in ("-S", "--setup"):
            p["setup"] = v
        elif o in ("-F", "--pilotCFGFile"):
            p["cfg"] = v
        elif o == "--wnVO":
            p["wnVO"] = v

    with open(p["cfg"], "r") as fp:
        js = json.load(fp)
    ce = js.get("CEs", {}).get(p["ce"], {}) if p["ce"] else {}
    p["site"] = str(ce.get("Site", ""))
    p["grid"] = p["grid"] or str(ce.get("GridCEType", ""))
    if "LocalCEType" in ce:
        p["ceType"] = str(ce["LocalCEType"])
    if isinstance(ce.get(p["queue"]), dict) and "LocalCEType" in ce[p["queue"]]:
        p["ceType"] = str(ce[p["queue"]]["LocalCEType"])
    if not p["setup"]:
        p["setup"] = str(js.get("DefaultSetup", ""))

    if "Setups" in js:
        setups = js["Setups"]
        tries = [("Setups", p["setup"], "Commands", p["grid"]), ("Setups", p["setup"], "Commands", "Defaults"),
                 ("Setups", "Defaults", "Commands", p["grid"]), ("Defaults", "Commands", "Defaults")]
        for keys in tries:
            try:
                node = js
                for k in keys:
                    node = node[k]
                p["commands"] = as_list(node)
                break
            except KeyError:
                pass
        mine, dflt = setups.get(p["setup"], {}), setups.get("Defaults", {})
        version = mine.get("Version", dflt.get("Version"))
        if version:
            p["version"] = version.split(",", 1)[0].strip()
        ext = mine.get("CommandExtensions", dflt.get("CommandExtensions"))
        if ext:
            p["extensions"] = as_list(ext)
    else:
        vo = p["wnVO"] or os.environ.get("DIRAC_PILOT_VO") or (vo_from_proxy(os.environ["X509_USER_PROXY"]) if os.environ.get("X509_USER_PROXY") else "unknown")
        merged = {}
        for path in ["/Defaults/Pilot", "/%s/Pilot" % p["setup"], "/%s/Defaults/Pilot" % vo, "/%s/%s/Pilot" % (vo, p["setup"]), "/%s/Pilot" % vo]:
            target = js
            for elem in path.strip("/").split("/"):
                target = target.setdefault(elem, {})
            merged.update(target)
        if "Commands" in merged:
            for key in [p["grid"], "Defaults"]:
                if merged["Commands"].get(key) is not None:
                    p["commands"] = as_list(merged["Commands"][key])
                    break
        if merged.get("CommandExtensions"):
            p["extensions"] = as_list(merged["CommandExtensions"])
        _servers = ",".join(str(s).strip() for s in js["ConfigurationServers"])
        if merged.get("Version"):
            p["version"] = merged["Version"].split(",", 1)[0].strip()
        if "CVMFS_locations" in merged:
            p["cvmfs"] = merged["CVMFS_locations"].replace(" ", "").split(",")

    for o, v in parse():  # second pass: the command line overrides pilot.json
        if o in ("-X", "--commands"):
            p["commands"] = v.split(",")
        elif o in ("-E", "--commandExtensions"):
            p["extensions"] = v.split(",")
        elif o in ("-n", "--name"):
            p["site"] = v
        elif o in ("-y", "--CEType"):
            p["ceType"] = v
        elif o in ("-c", "--cert"):
            p["cert"] = True
        elif o in ("-C", "--certLocation"):  # the real pilot's bug: -K is never honoured
            p["certLocation"] = v
        elif o in ("-M", "--MaxCycles"):
            try:
                p["maxCycles"] = int(v)
            except ValueError:
                pass
        elif o == "--StopAfterFailedMatches":
            try:
                p["stopAfter"] = int(v)
            except ValueError:
                pass
        elif o in ("-P", "--pilotProcessors"):
            try:
                p["processors"] = int(v)
            except BaseException:
                pass
        elif o in ("-r", "--release"):
            p["version"] = v.split(",", 1)[0]
        elif o in ("-x", "--execute"):
            p["execute"] = v
        elif o == "--CVMFS_locations":
            p["cvmfs"] = v.split(",")
        elif o in ("-Z", "--commandOptions"):
            for i in v.split(","):
                _k, _v = i.split("=", 1)[0].strip(), i.split("=", 1)[1].strip()

    if p["cert"] and p["certLocation"]:
        show_cert_files(p["certLocation"])

    for env_name, dir_name in (("X509_CERT_DIR", "certificates"), ("X509_VOMS_DIR", "vomsdir"), ("X509_VOMSES", "vomses")):
        for loc in p["cvmfs"]:
            candidate = os.path.join(loc, "etc/grid-security", dir_name)
            if non_empty_dir(candidate):
                os.environ[env_name] = candidate
                break
        if not (env_name in os.environ and non_empty_dir(os.environ[env_name])):
            pilot_log("ERROR", "Could not find/set %s" % env_name)
            sys.exit(1)

    pilot_log("INFO", "Executing commands: %s" % str(p["commands"]))
    for name in p["commands"]:
        if name not in KNOWN_COMMANDS and not any(name.startswith(e) for e in p["extensions"] if e):
            pilot_log("ERROR", "Command %s could not be instantiated" % name)
            sys.exit(-1)
        pilot_log("INFO", "Command %s instantiated from pilotCommands" % name)
    if "LaunchAgent" not in p["commands"] or p["execute"]:
        return 0
    return job_agent(p)


def job_agent(p):
    scenario = os.environ.get("DIRAC_TEST_PILOT_SCENARIO")
    if not scenario and os.path.exists("scenario"):
        with open("scenario") as fp:
            scenario = fp.read().strip()
    scenario = scenario or "job"
    drain_file = os.environ.get("DIRAC_DRAIN_FILE")
    if not drain_file and os.path.exists("drain-file"):
        with open("drain-file") as fp:
            drain_file = fp.read().strip()
    drain_file = drain_file or "/var/lib/dirac_drain"
    local_ce = p["ceType"] or "InProcess"
    agent_log("INFO", "Defining Inner CE from local configuration = %s" % local_ce)

    def stop(msg):
        agent_log("INFO", 'JobAgent will stop with message "%s", execution complete.' % msg)

    def received(job_id="123456789"):
        agent_log("INFO", "Received JobID=%s, JobType=User, Owner=auser, JobGroup=00012345" % job_id)
        agent_log("INFO", "Job being submitted (DIRAC JobID: %s; Task ID: 0)" % job_id)

    if os.path.exists(drain_file):
        stop("Node is being drained by an operator")
        return 0
    if scenario == "job":
        received()
        agent_log("NOTICE", "Cycle was successful")
    elif scenario == "no-match":
        agent_log("NOTICE", "Job request OK, but no match found No match found")
        stop("Nothing to do for more than %d cycles" % p["stopAfter"])
        agent_log("NOTICE", "Cycle was successful")
    elif scenario == "version-mismatch":
        agent_log("ERROR", "Pilot version mismatch Pilot version does not match the production version %s vs v99r0" % (p["version"] or "unknown"))
        stop("Pilot version does not match the production version")
    elif scenario == "payload-failure":
        received()
        agent_log("INFO", "Payload execution failed with error code 2")
        stop("Error during a payload execution")
    elif scenario == "hang":
        received()
        while True:
            time.sleep(1)
    elif scenario in ("drain", "drain-idle"):
        if scenario == "drain":
            received()
        while not os.path.exists(drain_file):
            time.sleep(0.1)
        stop("Node is being drained by an operator")
    elif scenario == "crash":
        raise RuntimeError("test pilot asked to crash")
    else:
        raise ValueError("unknown DIRAC_TEST_PILOT_SCENARIO %r" % scenario)
    return 0


if __name__ == "__main__":
    sys.exit(main())
