// The refresh behind an HTTP proxy: the bundle rendered with --https-proxy, the script run with
// exactly the env the CronJob sets, moto behind a real proxy on loopback, and the API server
// reached directly (NO_PROXY). The proxy's own log says what went through it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  bundleObject,
  cluster,
  e2eAvailable,
  loadBundle,
  runBusyboxScript,
  scriptEnv,
  startMoto,
  startProxy,
  synthBundle,
  writeScriptFiles,
  renderedSettings,
  type Moto,
  type Proxy,
} from './harness/index.js';

const NAMESPACE = 'ecr-egress';
const SERVICE_ACCOUNT = 'ecr-egress-updater';
const SECRET = 'ecr-registry-credentials';
/** A name only the proxy resolves: if the aws CLI bypassed the proxy, it could not connect. */
const MOTO_HOST = 'moto.egress.internal';

describe.skipIf(!e2eAvailable.ok)('--https-proxy', () => {
  let moto: Moto;
  let proxy: Proxy;

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startProxy({ [MOTO_HOST]: '127.0.0.1' });
  });

  afterAll(async () => {
    await proxy.stop();
    await moto.stop();
  });

  test('AWS calls go through the proxy, the API server calls bypass it, and the secrets are written', async () => {
    const { kubectl, serviceAccountKubeconfig } = cluster();
    const dir = await synthBundle([
      ...['--namespace', NAMESPACE, '--service-account', SERVICE_ACCOUNT, '--no-initial-job'],
      ...['--https-proxy', proxy.url],
      ...['--aws-endpoint-url-ecr', `https://${MOTO_HOST}`, '--aws-endpoint-url-sts', `https://${MOTO_HOST}`],
    ]);
    await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    await kubectl(['create', 'namespace', 'egress-app']);
    const objects = loadBundle(dir);
    const rendered = renderedSettings(bundleObject(objects, 'CronJob'));
    expect(rendered.AWS_ENDPOINT_URL_ECR).toBe(`https://${MOTO_HOST}`);
    const motoPort = new URL(moto.endpoint).port;
    const script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'egress-script-')));
    const result = await runBusyboxScript(
      script,
      scriptEnv({
        ...rendered,
        // moto speaks plain http on its own port; the rendered variables already carry the proxy
        // for http too, so only the endpoints' scheme and port differ from production.
        AWS_ENDPOINT_URL_ECR: `http://${MOTO_HOST}:${motoPort}`,
        AWS_ENDPOINT_URL_STS: `http://${MOTO_HOST}:${motoPort}`,
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_REGION: 'eu-west-1',
        ECR_TARGET_NAMESPACES: 'egress-app',
        KUBECONFIG: await serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
      }),
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('event=namespace namespace=egress-app result=updated');
    const secret = await kubectl(['get', 'secret', SECRET, '-n', 'egress-app', '-o', 'name']);
    expect(secret.stdout.trim()).toBe(`secret/${SECRET}`);
    // STS (the account id) and ECR (the token) through the proxy; nothing for the API server.
    expect(proxy.log.filter((line) => line.includes(MOTO_HOST)).length).toBeGreaterThanOrEqual(2);
    const apiPort = new URL(cluster().server).port;
    expect(proxy.log.filter((line) => line.includes(`:${apiPort}`))).toEqual([]);
  });
});
