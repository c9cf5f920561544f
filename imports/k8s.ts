// Kubernetes 1.28 L1 classes. `cdk8s import k8s` needs the internet; cdk8s-plus-28 ships the
// same generated classes, so we re-export those instead of vendoring a copy.
export * from 'cdk8s-plus-28/lib/imports/k8s.js';
