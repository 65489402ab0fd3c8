// Client certificates on a real HTTPS server (server.ts with clientCa): a VM may authenticate with
// a certificate whose DN starts with one of its machinetype's client_dn_prefixes, or with an RFC
// 3820 proxy of one (as Vac and Vcycle put into the user_data), which OpenSSL itself refuses.
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/manager/serve/app.ts";
import { createPublisher } from "../../../src/manager/serve/publisher.ts";
import { startServer, type RunningServer } from "../../../src/manager/serve/server.ts";
import { certificateIdentity, slashDn } from "../../../src/manager/vm/client-cert.ts";
import { createVmService } from "../../../src/manager/vm/vm-service.ts";
import { VmRegistry } from "../../../src/manager/vm/vm-registry.ts";
import { loadTokenKey, vmToken, type TokenKey } from "../../../src/manager/vm/vm-token.ts";
import { makeProxyPem } from "../../lifecycle/joboutputs/proxy-certificate.ts";
import { makeTlsFixtures, type TlsFixtures } from "../../support/tls-fixtures.ts";
import { makeDefinitionDir, type DefinitionDir } from "../serve/definition-dir.ts";

const MT = "example-command";
const PREFIX = "/O=vacuum-agent tests/CN=host-01.example";

let f: TlsFixtures;
let defs: DefinitionDir;
let state: string;
let key: TokenKey;
let server: RunningServer;
let foreign: { certPem: string; keyPem: string };

function selfSigned(cn: string): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = "01";
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3600_000);
  const subject = [{ name: "organizationName", value: "vacuum-agent tests" }, { name: "commonName", value: cn }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKey };
}

const pemCerts = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
const pemKey = (pem: string) => pem.match(/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+?-----END (RSA )?PRIVATE KEY-----\n?/)![0];

function put(name: string, creds: { cert?: string; key?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolvePut, reject) => {
    const req = request(`${server.url}/vms/${MT}/vm-1/joboutputs/${name}`, { method: "PUT", ca: f.caPem, cert: creds.cert, key: creds.key, headers: creds.headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolvePut({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end("payload");
  });
}

beforeAll(async () => {
  f = await makeTlsFixtures();
  foreign = selfSigned("host-01.example");
  defs = makeDefinitionDir();
  defs.write((d) => (d.pipes[0].machinetypes[0].client_dn_prefixes = [PREFIX]));
  state = mkdtempSync(join(tmpdir(), "client-cert-"));
  key = await loadTokenKey(state);
  const publisher = createPublisher({ file: defs.file });
  expect((await publisher.reload()).swapped).toBe(true);
  const vm = createVmService({ stateDir: state, key, registry: new VmRegistry(), content: publisher.current, clientCas: [new X509Certificate(f.caPem)] });
  const app = createApp({ content: publisher.current, vm });
  server = await startServer({
    listen: { host: "127.0.0.1", port: 0 },
    tls: { certPem: f.serverCertPem, keyPem: f.serverKeyPem, clientCa: [f.caPem] },
    handler: (req, info) => app.fetch(req, info),
    maxBodyBytes: vm.bodyLimit,
  });
});
afterAll(async () => {
  await server?.close(100);
  defs.cleanup();
  rmSync(state, { recursive: true, force: true });
  await f.cleanup();
});

describe("client certificates", () => {
  it("a certificate from a client CA whose DN has the prefix: 201", async () => {
    expect(await put("a", { cert: f.clientCertPem, key: f.clientKeyPem })).toEqual({ status: 201, body: "" });
  });

  it("an RFC 3820 proxy of it (OpenSSL would refuse it): 201", async () => {
    const proxy = makeProxyPem(f.clientCertPem, f.clientKeyPem);
    expect(await put("b", { cert: pemCerts(proxy).join("\n"), key: pemKey(proxy) })).toMatchObject({ status: 201 });
  });

  it.each([
    ["no certificate and no token", 401, () => ({})],
    ["a self-signed certificate with the same DN", 403, () => ({ cert: foreign.certPem, key: foreign.keyPem })],
    ["a proxy of a certificate no client CA issued", 403, () => {
      const p = makeProxyPem(foreign.certPem, foreign.keyPem);
      return { cert: pemCerts(p).join("\n"), key: pemKey(p) };
    }],
    ["a 'proxy' signed with another key than its issuer's", 403, () => {
      const p = makeProxyPem(f.clientCertPem, foreign.keyPem);
      return { cert: pemCerts(p).join("\n"), key: pemKey(p) };
    }],
    ["a good certificate with a wrong token", 403, () => ({ cert: f.clientCertPem, key: f.clientKeyPem, headers: { authorization: "Bearer forged" } })],
  ])("%s: %i", async (_, status, creds) => {
    expect(await put("c", creds())).toEqual({ status, body: "" });
  });

  it("a token still works on the same server, without a certificate", async () => {
    expect((await put("d", { headers: { authorization: `Bearer ${vmToken(key, MT, "vm-1")}` } })).status).toBe(201);
  });
});

describe("certificateIdentity", () => {
  it("takes the leaf's DN in /-form, attribute order kept", () => {
    const der = new X509Certificate(f.clientCertPem).raw;
    expect(certificateIdentity([der], true, [])).toEqual({ dn: PREFIX, proxy: false });
    expect(certificateIdentity([der], false, [new X509Certificate(f.caPem)])).toEqual({ problem: "a client certificate not issued by a trusted CA" });
    expect(slashDn("DC=org\nDC=example\nCN=a")).toBe("/DC=org/DC=example/CN=a");
  });

  it("an expired proxy is refused", () => {
    const proxy = pemCerts(makeProxyPem(f.clientCertPem, f.clientKeyPem)).map((p) => new X509Certificate(p).raw);
    const later = Date.now() + 48 * 3600_000;
    expect(certificateIdentity(proxy, false, [new X509Certificate(f.caPem)], later)).toMatchObject({ problem: expect.stringContaining("expired") });
    expect(certificateIdentity(proxy, false, [new X509Certificate(f.caPem)])).toMatchObject({ proxy: true, dn: expect.stringMatching(/^\/O=vacuum-agent tests\/CN=host-01\.example\/CN=\d+$/) });
  });
});
