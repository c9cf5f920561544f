import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './process.js';

export interface Pki {
  readonly caFile: string;
  readonly servingCertFile: string;
  readonly servingKeyFile: string;
  readonly adminCertFile: string;
  readonly adminKeyFile: string;
  /** Client cert of kube-controller-manager (the user its bootstrap ClusterRole is bound to). */
  readonly controllerManagerCertFile: string;
  readonly controllerManagerKeyFile: string;
  /** RSA pair the API server signs and verifies ServiceAccount tokens with. */
  readonly serviceAccountKeyFile: string;
  readonly serviceAccountPublicKeyFile: string;
}

async function openssl(args: string[]): Promise<void> {
  const { code, stderr } = await run('openssl', args);
  if (code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${code}):\n${stderr}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A throw-away CA, the API server's serving cert, admin and controller-manager client certs, the SA key pair. */
export async function createPki(dir: string): Promise<Pki> {
  const path = (name: string): string => join(dir, name);
  const pki: Pki = {
    caFile: path('ca.crt'),
    servingCertFile: path('apiserver.crt'),
    servingKeyFile: path('apiserver.key'),
    adminCertFile: path('admin.crt'),
    adminKeyFile: path('admin.key'),
    controllerManagerCertFile: path('controller-manager.crt'),
    controllerManagerKeyFile: path('controller-manager.key'),
    serviceAccountKeyFile: path('sa.key'),
    serviceAccountPublicKeyFile: path('sa.pub'),
  };
  await createCa(dir);
  await issue(dir, 'apiserver', '/CN=kube-apiserver', [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'extendedKeyUsage=serverAuth',
  ]);
  // The API server maps O= to groups: system:masters bypasses RBAC, as a cluster admin does.
  await issue(dir, 'admin', '/O=system:masters/CN=e2e-admin', ['extendedKeyUsage=clientAuth']);
  // Not an admin: the user RBAC's bootstrap policy grants kube-controller-manager, as in kubeadm.
  await issue(dir, 'controller-manager', '/CN=system:kube-controller-manager', ['extendedKeyUsage=clientAuth']);
  await openssl(['genrsa', '-out', pki.serviceAccountKeyFile, '2048']);
  await openssl(['rsa', '-in', pki.serviceAccountKeyFile, '-pubout', '-out', pki.serviceAccountPublicKeyFile]);
  return pki;
}

/** A throw-away CA (DIR/ca.crt, DIR/ca.key) that `issue` signs with. */
async function createCa(dir: string): Promise<void> {
  await openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=ecr-k8s-credentials-e2e-ca',
  ]);
}

/** A throw-away CA and a serving cert for `dnsName` it signed: a TLS endpoint standing in for AWS's. */
export async function createServingCert(
  dir: string,
  dnsName: string,
): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  await createCa(dir);
  await issue(dir, 'server', `/CN=${dnsName}`, [`subjectAltName=DNS:${dnsName}`, 'extendedKeyUsage=serverAuth']);
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
}

async function issue(dir: string, name: string, subject: string, extensions: string[]): Promise<void> {
  const path = (suffix: string): string => join(dir, `${name}.${suffix}`);
  const extFile = path('ext');
  writeFileSync(extFile, ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature', ...extensions].join('\n') + '\n');
  await openssl(['req', '-new', ...EC_KEY, '-keyout', path('key'), '-out', path('csr'), '-subj', subject]);
  await openssl([
    'x509',
    '-req',
    '-in',
    path('csr'),
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    extFile,
    '-out',
    path('crt'),
  ]);
}
