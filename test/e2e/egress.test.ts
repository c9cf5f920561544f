// The refresh behind an HTTP proxy: the bundle rendered with --https-proxy and endpoint URLs, the
// script run with exactly the env the CronJob sets, the AWS endpoints reachable only by CONNECT
// through a real proxy on loopback, and the API server reached directly (NO_PROXY) at a
// non-loopback address, as a pod reaches KUBERNETES_SERVICE_HOST. The proxy's own log says what
// went through it.
import { mkdtempSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  bundleObject,
  cluster,
  createServingCert,
  e2eAvailable,
  loadBundle,
  runBusyboxScript,
  scriptEnv,
  startForwarder,
  startMoto,
  startProxy,
  renderedSettings,
  synthBundle,
  writeScriptFiles,
  type Forwarder,
  type Moto,
  type Proxy,
} from './harness/index.js';

const NAMESPACE = 'ecr-egress';
const SERVICE_ACCOUNT = 'ecr-egress-updater';
const SECRET = 'ecr-registry-credentials';
/** A name only the proxy resolves: if the aws CLI bypassed the proxy, it could not connect. */
const AWS_HOST = 'vpce.egress.internal';

/**
 * This machine's first non-loopback IPv4 address. Go's proxy code never proxies loopback, so a
 * bypass proven on 127.0.0.1 would prove nothing.
 */
function podFacingAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  throw new Error('no non-loopback IPv4 address on this machine to reach the API server by');
}

describe.skipIf(!e2eAvailable.ok)('--https-proxy', () => {
  let moto: Moto;
  let proxy: Proxy;
  /** https in front of moto (plain http), as the VPC endpoint the flags point at. */
  let awsEndpoint: Forwarder;
  let caFile: string;
  /** The API server at a non-loopback address, as KUBERNETES_SERVICE_HOST in a pod. */
  let apiServer: Forwarder;
  let apiAddress: string;

  beforeAll(async () => {
    moto = await startMoto();
    const cert = await createServingCert(mkdtempSync(join(tmpdir(), 'egress-pki-')), AWS_HOST);
    caFile = cert.caFile;
    awsEndpoint = await startForwarder('127.0.0.1', Number(new URL(moto.endpoint).port), cert);
    proxy = await startProxy({ [AWS_HOST]: '127.0.0.1' });
    apiAddress = podFacingAddress();
    apiServer = await startForwarder(apiAddress, Number(new URL(cluster().server).port));
  });

  afterAll(async () => {
    await apiServer.stop();
    await proxy.stop();
    await awsEndpoint.stop();
    await moto.stop();
  });

  const apiServerVia = () => ({ server: `https://${apiAddress}:${apiServer.port}`, tlsServerName: 'localhost' });

  test('STS and ECR calls are tunnelled through the proxy, the API server calls bypass it', async () => {
    const { kubectl, serviceAccountKubeconfig } = cluster();
    const endpoint = `https://${AWS_HOST}:${awsEndpoint.port}`;
    const dir = await synthBundle([
      ...['--namespace', NAMESPACE, '--service-account', SERVICE_ACCOUNT, '--no-initial-job'],
      ...['--https-proxy', proxy.url, '--aws-endpoint-url-ecr', endpoint, '--aws-endpoint-url-sts', endpoint],
    ]);
    await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    await kubectl(['create', 'namespace', 'egress-app']);
    const objects = loadBundle(dir);
    const rendered = renderedSettings(bundleObject(objects, 'CronJob'));
    expect(rendered).toMatchObject({ AWS_ENDPOINT_URL_ECR: endpoint, AWS_ENDPOINT_URL_STS: endpoint });
    // The default NO_PROXY does not name this address: only the script's addition can bypass it.
    expect(rendered.NO_PROXY?.split(',')).not.toContain(apiAddress);
    const script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'egress-script-')));
    const apiConnectionsBefore = apiServer.connections();
    const result = await runBusyboxScript(
      script,
      scriptEnv({
        ...rendered,
        // The pod trusts AWS's public CAs; this endpoint's cert is from a throw-away CA.
        AWS_CA_BUNDLE: caFile,
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_REGION: 'eu-west-1',
        ECR_TARGET_NAMESPACES: 'egress-app',
        KUBERNETES_SERVICE_HOST: apiAddress,
        KUBECONFIG: await serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT, apiServerVia()),
      }),
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('event=namespace namespace=egress-app result=updated');
    const secret = await kubectl(['get', 'secret', SECRET, '-n', 'egress-app', '-o', 'name']);
    expect(secret.stdout.trim()).toBe(`secret/${SECRET}`);
    // One tunnel per aws call at least (STS for the account, ECR for the token), and nothing else:
    // the API server was reached directly, at the address the proxy never saw.
    expect(proxy.log.length).toBeGreaterThanOrEqual(2);
    expect(new Set(proxy.log)).toEqual(new Set([`CONNECT ${AWS_HOST}:${awsEndpoint.port}`]));
    expect(apiServer.connections()).toBeGreaterThan(apiConnectionsBefore);
  });

  test('without that address in NO_PROXY, kubectl would have gone through the proxy', async () => {
    const { kubectl, serviceAccountKubeconfig } = cluster();
    const logged = proxy.log.length;
    await kubectl(['get', '--raw', '/version'], {
      kubeconfig: await serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT, apiServerVia()),
      env: { PATH: process.env.PATH ?? '', HTTPS_PROXY: proxy.url, NO_PROXY: '.svc,.cluster.local,127.0.0.1' },
    });
    expect(proxy.log.slice(logged)).toEqual([`CONNECT ${apiAddress}:${apiServer.port}`]);
  });
});
