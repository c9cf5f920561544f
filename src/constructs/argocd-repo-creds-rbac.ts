import { Construct } from 'constructs';
import { KubeRole, KubeRoleBinding } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';

export interface ArgocdRepoCredsRbacProps {
  /** Name of the Role and RoleBinding. @default - required */
  readonly name: string;
  /** Argo CD's namespace, where the repo-creds Secrets live. @default - required */
  readonly namespace: string;
  /** Namespace of the ServiceAccount bound to the role. @default - required */
  readonly serviceAccountNamespace: string;
  /** ServiceAccount bound to the role. @default - required */
  readonly serviceAccountName: string;
  /** The repo-creds Secret names the updater may write (argocdRepoCredsNames). @default - required */
  readonly secretNames: readonly string[];
}

/**
 * The right to write Argo CD's repo-creds Secrets, in Argo CD's namespace only and only under
 * their own names: a Role, not a rule of the ClusterRole. Argo CD's namespace holds its admin
 * password and cluster credentials; the updater can neither read them nor write any other name.
 * As for the pull secrets, server-side apply authorizes `create` with the object's name.
 */
export class ArgocdRepoCredsRbac extends Construct {
  constructor(scope: Construct, id: string, props: ArgocdRepoCredsRbacProps) {
    super(scope, id);
    const role = new KubeRole(this, 'Role', {
      metadata: { name: props.name, namespace: props.namespace, labels: { ...PART_OF } },
      rules: [
        { apiGroups: [''], resources: ['secrets'], resourceNames: [...props.secretNames], verbs: ['create', 'patch'] },
      ],
    });
    new KubeRoleBinding(this, 'Binding', {
      metadata: { name: props.name, namespace: props.namespace, labels: { ...PART_OF } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace: props.serviceAccountNamespace }],
    });
  }
}
