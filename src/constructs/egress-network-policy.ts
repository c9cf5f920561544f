import { Construct } from 'constructs';
import { IntOrString, KubeNetworkPolicy, type NetworkPolicyPeer } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';

export interface EgressNetworkPolicyProps {
  /** Namespace of the refresh pods. @default - required */
  readonly namespace: string;
  /** Labels selecting the refresh pods. @default - required */
  readonly podLabels: Readonly<Record<string, string>>;
  /** CIDRs of the API server endpoints. @default - any IPv4 or IPv6 address */
  readonly apiServerCidrs?: readonly string[];
  /** Port of the API server endpoints. @default 6443 */
  readonly apiServerPort?: number;
  /** CIDRs allowed on 443 (and the proxy port): the proxy, VPC endpoints. @default - any address */
  readonly egressCidrs?: readonly string[];
  /** Port of the HTTP(S) proxy, allowed to the egress CIDRs. @default - no proxy */
  readonly proxyPort?: number;
}

const ANYWHERE: NetworkPolicyPeer[] = [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }];

/**
 * Default-deny for the refresh pods, then only what a refresh needs. No ingress at all: nothing
 * ever connects to the job.
 */
export class EgressNetworkPolicy extends Construct {
  constructor(scope: Construct, id: string, props: EgressNetworkPolicyProps) {
    super(scope, id);
    const apiServerCidrs = props.apiServerCidrs ?? [];
    const apiServerPeers = apiServerCidrs.length > 0 ? apiServerCidrs.map((cidr) => ({ ipBlock: { cidr } })) : ANYWHERE;
    const egressCidrs = props.egressCidrs ?? [];
    // Narrowed, 443 still reaches the API server's addresses (the Service VIP case below).
    const httpsPeers =
      egressCidrs.length > 0 ? [...egressCidrs, ...apiServerCidrs].map((cidr) => ({ ipBlock: { cidr } })) : ANYWHERE;
    const proxyRule =
      props.proxyPort === undefined || props.proxyPort === 443
        ? []
        : [
            {
              to: egressCidrs.length > 0 ? egressCidrs.map((cidr) => ({ ipBlock: { cidr } })) : ANYWHERE,
              ports: [{ protocol: 'TCP', port: IntOrString.fromNumber(props.proxyPort) }],
            },
          ];
    new KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: 'ecr-credential-refresh', namespace: props.namespace, labels: { ...PART_OF } },
      spec: {
        podSelector: { matchLabels: { ...props.podLabels } },
        // Listing Ingress with no ingress rules denies all ingress. An explicit `ingress: []`
        // would do the same but is dropped by the API server, so every apply would rewrite it.
        policyTypes: ['Ingress', 'Egress'],
        egress: [
          // DNS to any destination: cluster DNS may be a Service, a node-local cache on a
          // link-local address, or the node itself, depending on the distribution.
          {
            ports: [
              { protocol: 'UDP', port: IntOrString.fromNumber(53) },
              { protocol: 'TCP', port: IntOrString.fromNumber(53) },
            ],
          },
          // AWS APIs (STS, ECR) have no fixed addresses; 443 also reaches the `kubernetes`
          // Service VIP on CNIs that evaluate policy before DNAT.
          { to: httpsPeers, ports: [{ protocol: 'TCP', port: IntOrString.fromNumber(443) }] },
          // The proxy, when it listens elsewhere than 443.
          ...proxyRule,
          // Most CNIs evaluate policy after DNAT, so the API server is reached on its endpoint
          // address and port, not the Service's.
          {
            to: apiServerPeers,
            ports: [{ protocol: 'TCP', port: IntOrString.fromNumber(props.apiServerPort ?? 6443) }],
          },
        ],
      },
    });
  }
}
