import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { KubeJob } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';
import { type RefreshPodProps } from './refresh-pod-template.js';
import { RefreshCronJob, refreshJobSpec } from './refresh-cron-job.js';
import type { RefreshScripts } from './refresh-script-config-map.js';

/** The tools whose handling of a one-off Job the bundle knows (`--gitops`). */
export type GitOpsTool = 'none' | 'argocd' | 'flux';

export function isGitOpsTool(value: string): value is GitOpsTool {
  return Object.hasOwn(GITOPS_ANNOTATIONS, value);
}

/**
 * What each tool is told about the Job.
 * - argocd: a PostSync hook, so it runs after every successful sync and is never compared
 *   with live state. Argo CD deletes it once it succeeds, and deletes a failed one before
 *   creating the next (docs/user-guide/sync-waves.md, "Hook lifecycle and cleanup").
 * - flux: kustomize-controller applies it like anything else and prunes the old one when the
 *   name changes. An overlay that changes the pod template (an image digest, say) keeps the
 *   name, and a Job's template is immutable: `force: Enabled` makes the controller delete and
 *   recreate it instead of failing the whole Kustomization (docs/spec/v1/kustomizations.md,
 *   "Controlling the apply behavior of resources", which names Jobs as the use; the controller
 *   passes it as its ForceSelector, matched case-insensitively on labels and annotations).
 */
export const GITOPS_ANNOTATIONS: { readonly [T in GitOpsTool]: Readonly<Record<string, string>> } = {
  none: {},
  argocd: {
    'argocd.argoproj.io/hook': 'PostSync',
    'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
  },
  flux: { 'kustomize.toolkit.fluxcd.io/force': 'Enabled' },
};

export interface InitialRefreshJobProps extends RefreshPodProps {
  /** Namespace of the Job. @default - required */
  readonly namespace: string;
  /** The refresh script files; a new script version gets a new Job, so it runs at once. @default - required */
  readonly scripts: RefreshScripts;
  /** The GitOps tool that syncs the bundle, which decides the Job's annotations. @default 'none' */
  readonly gitops?: GitOpsTool;
}

/**
 * One refresh right after apply, so pull secrets exist before the first scheduled run.
 * A Job's pod template is immutable, so the name carries a hash of everything that shapes the
 * run: re-applying unchanged output is a no-op, and after any change a new Job is created
 * instead of an "field is immutable" error.
 *
 * No ttlSecondsAfterFinished, in any mode: a Job deleted by its TTL is a Job missing from a
 * synced set, which a GitOps controller (or the next `kubectl apply`) creates again, so the
 * refresh would rerun every day and the app flip OutOfSync. Argo CD's own docs warn against a
 * TTL on hook Jobs too. A finished Job holds no resources; the next config change replaces it.
 */
export class InitialRefreshJob extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: InitialRefreshJobProps) {
    super(scope, id);
    const spec = refreshJobSpec(props);
    const digest = createHash('sha256')
      .update(JSON.stringify(spec))
      .update(JSON.stringify(props.scripts))
      .digest('hex');
    this.name = `${RefreshCronJob.NAME}-initial-${digest.slice(0, 10)}`;
    const annotations = GITOPS_ANNOTATIONS[props.gitops ?? 'none'];
    new KubeJob(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: props.namespace,
        labels: { ...PART_OF },
        ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
      },
      spec,
    });
  }
}
