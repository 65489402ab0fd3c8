// A throw-away PKI for HTTPS tests: a CA, a server certificate for 127.0.0.1/localhost, a client
// certificate, and a second, unrelated CA. Built with node:crypto keys and node-forge certificates
// (no subprocess: the test setup forbids them), written to a temp dir in caDir layout.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";

const { pki } = forge;

export interface TlsFixtures {
  dir: string;
  /** A directory holding only the right CA (as `<name>.pem` and `<name>.0`, like a grid CA dir). */
  caDir: string;
  /** A directory holding only the unrelated CA. */
  wrongCaDir: string;
  caPem: string;
  wrongCaPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Subject CN of the client certificate. */
  clientCn: string;
  cleanup(): Promise<void>;
}

interface Issued {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  certPem: string;
  keyPem: string;
}

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return { keyPem: privateKey, privateKey: pki.privateKeyFromPem(privateKey), publicKey: pki.publicKeyFromPem(publicKey) };
}

function issue(
  cn: string,
  issuer: Issued | null,
  extensions: object[],
): Issued {
  const keys = keyPair();
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = "01" + randomBytes(8).toString("hex");
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const subject = [{ name: "organizationName", value: "vacuum-agent tests" }, { name: "commonName", value: cn }];
  cert.setSubject(subject);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : subject);
  cert.setExtensions(extensions);
  cert.sign(issuer ? issuer.key : keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey, certPem: pki.certificateToPem(cert), keyPem: keys.keyPem };
}

const CA_EXTENSIONS = [
  { name: "basicConstraints", cA: true, critical: true },
  { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
];

export async function makeTlsFixtures(): Promise<TlsFixtures> {
  const ca = issue("Test CA", null, CA_EXTENSIONS);
  const wrongCa = issue("Other CA", null, CA_EXTENSIONS);
  const server = issue("localhost", ca, [
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
  ]);
  const clientCn = "host-01.example";
  const client = issue(clientCn, ca, [
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", clientAuth: true },
  ]);

  const dir = await mkdtemp(join(tmpdir(), "vacuum-tls-"));
  const caDir = join(dir, "certificates");
  const wrongCaDir = join(dir, "wrong-certificates");
  await mkdir(caDir);
  await mkdir(wrongCaDir);
  await writeFile(join(caDir, "TestCA.pem"), ca.certPem);
  await writeFile(join(caDir, "0a1b2c3d.0"), ca.certPem);
  await writeFile(join(caDir, "0a1b2c3d.signing_policy"), "access_id_CA X509 '/O=vacuum-agent tests/CN=Test CA'\n");
  await writeFile(join(wrongCaDir, "OtherCA.pem"), wrongCa.certPem);

  return {
    dir,
    caDir,
    wrongCaDir,
    caPem: ca.certPem,
    wrongCaPem: wrongCa.certPem,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
    clientCn,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
