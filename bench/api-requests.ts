// Counts the API requests one run makes, from the API server's own /metrics.
//
// apiserver_request_total has no user label and leaves out most non-resource requests (the
// discovery and OpenAPI GETs kubectl makes), so it cannot tell the runner's requests from the
// API server's own background traffic (lease renewals every 10 s, for one). API Priority and
// Fairness classifies every request, resource or not, by who sent it: a ServiceAccount outside
// kube-system lands in the `service-accounts` flow schema, while the API server's loopback
// client and the bench's admin (system:masters) land in `exempt`. Nothing else on this control
// plane is a ServiceAccount, so the change of that flow's counters over a run is exactly the
// runner's requests.

export interface RequestCount {
  /** Every request of the runner's ServiceAccount, discovery and OpenAPI included. */
  readonly total: number;
  /** Resource requests on secrets and namespaces by verb, e.g. {"APPLY secrets": 1000}. */
  readonly byVerb: Readonly<Record<string, number>>;
  /** The rest: discovery, OpenAPI and anything else that is not a secret or namespace request. */
  readonly other: number;
}

export interface MetricsSnapshot {
  readonly serviceAccountRequests: number;
  readonly resourceRequests: ReadonlyMap<string, number>;
}

const SA_FLOW =
  /^apiserver_flowcontrol_(?:dispatched|rejected)_requests_total\{[^}]*flow_schema="service-accounts"[^}]*\} (\S+)$/;
const REQUESTS = /^apiserver_request_total\{([^}]*)\} (\S+)$/;
const COUNTED_RESOURCES = new Set(['secrets', 'namespaces']);

function label(labels: string, name: string): string {
  return new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1] ?? '';
}

/** Reads the counters that matter from the text of GET /metrics. */
export function parseMetrics(text: string): MetricsSnapshot {
  let serviceAccountRequests = 0;
  const resourceRequests = new Map<string, number>();
  for (const line of text.split('\n')) {
    const flow = SA_FLOW.exec(line);
    if (flow?.[1] !== undefined) {
      serviceAccountRequests += Number(flow[1]);
      continue;
    }
    const request = REQUESTS.exec(line);
    if (request?.[1] === undefined || request[2] === undefined) continue;
    const resource = label(request[1], 'resource');
    if (label(request[1], 'group') !== '' || !COUNTED_RESOURCES.has(resource)) continue;
    const verb = label(request[1], 'verb');
    // The runner never watches; a WATCH in the window is one of the API server's own informers
    // re-opening its watch, which runs every few minutes.
    if (verb === 'WATCH') continue;
    const key = `${verb} ${resource}`;
    resourceRequests.set(key, (resourceRequests.get(key) ?? 0) + Number(request[2]));
  }
  return { serviceAccountRequests, resourceRequests };
}

/**
 * The runner's requests between two snapshots. The per-verb split also holds the admin's
 * requests in that window, which the bench keeps out of it (it checks the result afterwards).
 */
export function requestsBetween(before: MetricsSnapshot, after: MetricsSnapshot): RequestCount {
  const byVerb: Record<string, number> = {};
  for (const [key, value] of after.resourceRequests) {
    const delta = value - (before.resourceRequests.get(key) ?? 0);
    if (delta > 0) byVerb[key] = delta;
  }
  const total = after.serviceAccountRequests - before.serviceAccountRequests;
  const resource = Object.values(byVerb).reduce((sum, count) => sum + count, 0);
  return { total, byVerb, other: total - resource };
}
