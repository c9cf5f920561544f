import { writeFileSync } from 'node:fs';

export interface KubeconfigSpec {
  readonly server: string;
  readonly caFile: string;
  /** Either a bearer token or a client certificate/key pair (file paths). */
  readonly user: { readonly token: string } | { readonly certFile: string; readonly keyFile: string };
  /** The name the server's certificate is checked against. @default - the server URL's host */
  readonly tlsServerName?: string;
  /** @default - no namespace in the context (kubectl then uses "default") */
  readonly namespace?: string;
}

/** Writes a one-context kubeconfig (JSON, which kubectl reads as YAML) readable only by us. */
export function writeKubeconfig(file: string, spec: KubeconfigSpec): void {
  const user =
    'token' in spec.user
      ? { token: spec.user.token }
      : { 'client-certificate': spec.user.certFile, 'client-key': spec.user.keyFile };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'e2e',
        cluster: {
          server: spec.server,
          'certificate-authority': spec.caFile,
          ...(spec.tlsServerName ? { 'tls-server-name': spec.tlsServerName } : {}),
        },
      },
    ],
    users: [{ name: 'e2e', user }],
    contexts: [
      {
        name: 'e2e',
        context: { cluster: 'e2e', user: 'e2e', ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      },
    ],
    'current-context': 'e2e',
  };
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
}
