// Where the credentials from the user_data are installed on the VM (machine paths; the executor
// roots them under --root):
//
//   /etc/grid-security/                      0755 root  (the conventional place, as DIRAC's VMs and
//     hostcert.pem                           0644 root   HTCondor's GSI setup look for host credentials)
//     hostkey.pem                            0600 root
//   /var/lib/vacuum-agent/credentials/       0700 root  (the agent's own state, never world-readable)
//     x509proxy.pem                          0600 root  proxy certificate + key + issuer chain: the
//                                                        user_data's proxy as given, or one the agent
//                                                        minted from the host certificate
//
// The CA directory (credentials.ca_dir) is not written here: it is the image's or CVMFS's, and is
// only given OpenSSL hash links when it lacks them.

export const CREDENTIAL_PATHS = {
  gridSecurity: "/etc/grid-security",
  hostcert: "/etc/grid-security/hostcert.pem",
  hostkey: "/etc/grid-security/hostkey.pem",
  dir: "/var/lib/vacuum-agent/credentials",
  x509proxy: "/var/lib/vacuum-agent/credentials/x509proxy.pem",
} as const;
