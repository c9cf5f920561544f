import { Construct } from 'constructs';
import { KubeClusterRole, KubeClusterRoleBinding, KubeRole, KubeRoleBinding } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';

export interface UpdaterRbacProps {
  /** Name of the ClusterRole and ClusterRoleBinding; unique to the install, as they are cluster-wide. @default - required */
  readonly name: string;
  /** Name of the Role and RoleBinding for Events in the updater namespace. @default - required */
  readonly eventRoleName: string;
  /** Namespace of the ServiceAccount bound to the role. @default - required */
  readonly serviceAccountNamespace: string;
  /** ServiceAccount bound to the role. @default - required */
  readonly serviceAccountName: string;
  /** The one Secret name the updater may write in each namespace. @default - required */
  readonly secretName: string;
  /** The namespace watcher runs too: it also needs `watch` on namespaces. @default false */
  readonly watchNamespaces?: boolean;
  /** ServiceAccounts the updater appends the pull secret to (read and patch only those). @default - none */
  readonly patchServiceAccounts?: readonly string[];
}

/**
 * Cluster-wide rights, and only the ones the refresh script uses. It never reads a Secret, so
 * it holds no get/list/watch on secrets: a stolen token cannot read anyone's credentials, and
 * it can write only Secrets with the managed name.
 */
export class UpdaterRbac extends Construct {
  constructor(scope: Construct, id: string, props: UpdaterRbacProps) {
    super(scope, id);
    const role = new KubeClusterRole(this, 'Role', {
      metadata: { name: props.name, labels: { ...PART_OF } },
      rules: [
        // Find target namespaces and their phase (Terminating ones are skipped) in one request.
        // The watcher (--watch-namespaces) follows new namespaces with one watch stream.
        {
          apiGroups: [''],
          resources: ['namespaces'],
          verbs: props.watchNamespaces === true ? ['list', 'watch'] : ['list'],
        },
        // The script's server-side apply is one PATCH per Secret and never GETs it; the API
        // server checks `create` when the Secret does not exist yet. For that apply-create path
        // the API server authorizes with the object's name, so resourceNames limits both verbs
        // to the managed Secret (a plain POST create would not be name-restricted; the script
        // never makes one). No update, delete or read verbs.
        { apiGroups: [''], resources: ['secrets'], resourceNames: [props.secretName], verbs: ['create', 'patch'] },
        // --patch-service-accounts: read the named accounts (imagePullSecrets is an atomic list,
        // so an append needs the current one) and patch them; never create or list.
        ...((props.patchServiceAccounts ?? []).length > 0
          ? [
              {
                apiGroups: [''],
                resources: ['serviceaccounts'],
                resourceNames: [...(props.patchServiceAccounts ?? [])],
                verbs: ['get', 'patch'],
              },
            ]
          : []),
      ],
    });
    new KubeClusterRoleBinding(this, 'Binding', {
      metadata: { name: props.name, labels: { ...PART_OF } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace: props.serviceAccountNamespace }],
    });
    // A run that ends with failures or conflicts leaves an Event on its Job. Events go to the
    // updater's own namespace only, hence a Role: cluster-wide, a stolen token could flood any
    // namespace's events with messages of its choosing.
    const eventRole = new KubeRole(this, 'EventRole', {
      metadata: { name: props.eventRoleName, namespace: props.serviceAccountNamespace, labels: { ...PART_OF } },
      rules: [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }],
    });
    new KubeRoleBinding(this, 'EventBinding', {
      metadata: { name: props.eventRoleName, namespace: props.serviceAccountNamespace, labels: { ...PART_OF } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: eventRole.name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace: props.serviceAccountNamespace }],
    });
  }
}
