/** Labels on every rendered object; the pod's `name` label is what the NetworkPolicy selects. */
export const PART_OF = { 'app.kubernetes.io/part-of': 'ecr-k8s-credentials' } as const;

export const REFRESH_POD_LABELS = {
  'app.kubernetes.io/name': 'ecr-credential-refresh',
  'app.kubernetes.io/component': 'refresh',
  ...PART_OF,
} as const;
