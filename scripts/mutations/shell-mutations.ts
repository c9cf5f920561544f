// The reviewed list of one-line mutations of the shell scripts that `npm run test:mutations` applies
// one at a time (scripts/mutations/run.ts). Each breaks one behaviour README or a script header
// promises; each names the e2e test(s) that must notice. A mutation that survives is a promise no
// test holds: strengthen the test, never delete the entry. When a script is rewritten and a line
// no longer matches, the runner says which entry to re-target.

/** An e2e test: its file and literal text of its name (vitest's -t matches it, describe titles included). */
export interface NamedTest {
  readonly file: string;
  readonly name: string;
}

export interface ShellMutation {
  /** Short kebab-case name, for --only and the report. */
  readonly id: string;
  /** The mutated file, relative to the repository. */
  readonly file: string;
  /** Literal text that exactly one line of the file holds (with `after`, counted among lines after such a line). */
  readonly line: string;
  /** Literal text the line immediately above must hold, to single out a line that repeats. @default - none */
  readonly after?: string;
  /** What `line` becomes (the rest of the line stays). */
  readonly replacement: string;
  /** The promised behaviour the mutation breaks (README section or script header). */
  readonly breaks: string;
  /** The tests expected to fail with the mutation applied. */
  readonly tests: readonly NamedTest[];
}

const REFRESH = 'test/e2e/refresh-script.test.ts';
const EXIT_CODES = 'test/e2e/exit-codes.test.ts';
const REQUESTS = 'test/e2e/refresh-requests.test.ts';
const BOOTSTRAP = 'test/e2e/bootstrap-iam.test.ts';
const WATCHER = 'test/e2e/namespace-watcher.test.ts';
const ACCOUNTS = 'test/e2e/service-accounts.test.ts';
const EVENTS = 'test/e2e/run-event.test.ts';
const ARGOCD_TESTS = 'test/e2e/argocd-repo-creds.test.ts';
const ECR_PUBLIC_TESTS = 'test/e2e/ecr-public.test.ts';
const TENANT_TESTS = 'test/e2e/tenants.test.ts';
const TENANTS = 'src/scripts/ecr-tenants.sh';
const TENANT_MAPPING = "each namespace holds a token of its tenant role's account";

const SCRIPT = 'src/scripts/refresh-ecr-credentials.sh';
const LOG = 'src/scripts/ecr-log.sh';
const SETTINGS = 'src/scripts/ecr-settings.sh';
const API = 'src/scripts/ecr-api.sh';
const NAMESPACES = 'src/scripts/ecr-namespaces.sh';
const WRITE = 'src/scripts/ecr-write.sh';
const TOKEN = 'src/scripts/ecr-token.sh';
const WATCH = 'src/scripts/ecr-watch.sh';
const SERVICE_ACCOUNTS = 'src/scripts/ecr-service-accounts.sh';
const EVENTS_PART = 'src/scripts/ecr-events.sh';
const ECR_PUBLIC_PART = 'src/scripts/ecr-public.sh';
const BOOTSTRAP_CALLS = 'scripts/bootstrap-iam/calls.sh';
const BOOTSTRAP_USER = 'scripts/bootstrap-iam/iam-user.sh';
const BOOTSTRAP_SECRET = 'scripts/bootstrap-iam/secret.sh';
const BOOTSTRAP_SCRIPT = 'scripts/bootstrap-iam.sh';
const BOOTSTRAP_TENANT = 'scripts/bootstrap-iam/tenant.sh';
const BOOTSTRAP_ARGS = 'scripts/bootstrap-iam/args.sh';
const BOOTSTRAP_TENANT_TESTS = 'test/e2e/bootstrap-tenant.test.ts';

export const SHELL_MUTATIONS: readonly ShellMutation[] = [
  // --- exit codes of the refresh script (header of refresh-ecr-credentials.sh, README "Exit codes")
  {
    id: 'exit-0-becomes-1',
    file: SCRIPT,
    line: 'exit_code=0',
    replacement: 'exit_code=1',
    breaks: 'exit 0: every selected namespace was updated or skipped',
    tests: [{ file: EXIT_CODES, name: 'refresh exits 0 when every selected namespace is written or skipped' }],
  },
  {
    id: 'exit-1-lost-worker-becomes-5',
    file: SCRIPT,
    line: 'exit_code=$EXIT_UNEXPECTED',
    replacement: 'exit_code=$EXIT_PARTIAL',
    breaks: 'exit 1: a killed writer process is an unexpected error',
    tests: [{ file: EXIT_CODES, name: 'refresh exits 1 when a writer process is killed' }],
  },
  {
    id: 'exit-1-lost-worker-not-counted',
    file: SCRIPT,
    line: 'if [ "$lost_workers" -gt 0 ]; then',
    replacement: 'if [ "$lost_workers" -gt 1 ]; then',
    breaks: 'exit 1: one killed writer process is enough to fail the run',
    tests: [{ file: EXIT_CODES, name: 'refresh exits 1 when a writer process is killed' }],
  },
  {
    id: 'exit-1-missing-tool-becomes-2',
    file: SETTINGS,
    line: 'die "$EXIT_UNEXPECTED" "$1 is not on PATH',
    replacement: 'die "$EXIT_CONFIG" "$1 is not on PATH',
    breaks: 'exit 1: a missing tool is an unexpected error, reported before any call',
    tests: [{ file: REFRESH, name: 'an image without curl stops the run before any call' }],
  },
  {
    id: 'exit-2-becomes-3',
    file: SCRIPT,
    line: 'EXIT_CONFIG=2',
    replacement: 'EXIT_CONFIG=3',
    breaks: 'exit 2: configuration error, nothing written',
    tests: [{ file: EXIT_CODES, name: 'refresh exits 2 on a bad setting, before any AWS or Kubernetes call' }],
  },
  {
    id: 'exit-3-sts-becomes-4',
    file: TOKEN,
    line: 'die "$EXIT_AWS" "cannot determine the AWS account id',
    replacement: 'die "$EXIT_KUBERNETES" "cannot determine the AWS account id',
    breaks: 'exit 3: STS refusing the credentials (no AWS_ACCOUNT_ID) is an AWS error, nothing written',
    tests: [{ file: EXIT_CODES, name: 'refresh exits 3 when STS refuses the credentials' }],
  },
  {
    id: 'exit-3-constant-becomes-4',
    file: SCRIPT,
    line: 'EXIT_AWS=3',
    replacement: 'EXIT_AWS=4',
    breaks: 'exit 3: no ECR token is an AWS error',
    tests: [
      { file: REFRESH, name: 'an AWS failure leaves every existing Secret byte-identical and exits 3' },
      { file: EXIT_CODES, name: 'refresh exits 3 when the ECR endpoint is unreachable' },
    ],
  },
  {
    id: 'exit-3-second-region-tolerated',
    file: TOKEN,
    line: 'if ! fetch_token "${gt_source%%=*}" "${gt_source#*=}"; then',
    replacement: 'if ! fetch_token "${gt_source%%=*}" "${gt_source#*=}" && [ -z "$auths" ]; then',
    breaks:
      'tokens first: if any token call fails (also after another region succeeded) the run exits 3 and writes nothing',
    tests: [{ file: EXIT_CODES, name: "refresh exits 3 when the second region's token call fails after the first" }],
  },
  {
    id: 'exit-4-becomes-3',
    file: NAMESPACES,
    line: 'die "$EXIT_KUBERNETES" "cannot list namespaces: $table_error',
    replacement: 'die "$EXIT_AWS" "cannot list namespaces: $table_error',
    breaks: 'exit 4: namespaces that cannot be listed, nothing written',
    tests: [
      { file: EXIT_CODES, name: 'refresh exits 4 when RBAC refuses the namespace list' },
      { file: REFRESH, name: 'namespaces that cannot be listed (refused credentials) exit 4 and write nothing' },
    ],
  },
  {
    id: 'exit-5-becomes-0',
    file: SCRIPT,
    line: 'exit_code=$EXIT_PARTIAL',
    replacement: 'exit_code=0',
    breaks: 'exit 5: a conflict or failure is not success',
    tests: [{ file: EXIT_CODES, name: 'refresh exits 5 when one namespace conflicts' }],
  },
  {
    id: 'exit-6-becomes-5',
    file: SCRIPT,
    line: 'exit_code=$EXIT_TRANSIENT',
    replacement: 'exit_code=$EXIT_PARTIAL',
    breaks: 'exit 6: the only failures may pass (no answer, 429, 5xx); the Job retries',
    tests: [{ file: EXIT_CODES, name: 'refresh exits 6 when the only failures may pass' }],
  },
  // --- exit codes of bootstrap-iam.sh (README "Credentials": 0 done, 1 failed, 2 bad input, Ctrl-C)
  {
    id: 'bootstrap-exit-1-becomes-0',
    file: BOOTSTRAP_CALLS,
    line: '  exit 1',
    after: `printf '%s: error: %s\\n' "$PROG" "$*" >&2`,
    replacement: '  exit 0',
    breaks: 'bootstrap exit 1: a failure after the checks',
    tests: [{ file: EXIT_CODES, name: 'bootstrap-iam.sh exits 1 when STS refuses the credentials' }],
  },
  {
    id: 'bootstrap-exit-2-becomes-1',
    file: BOOTSTRAP_CALLS,
    line: '  exit 2',
    after: `printf '%s: %s\\n' "$PROG" "$*" >&2`,
    replacement: '  exit 1',
    breaks: 'bootstrap exit 2: bad input, nothing changed',
    tests: [{ file: EXIT_CODES, name: 'bootstrap-iam.sh exits 2 on an unknown option' }],
  },
  {
    id: 'bootstrap-exit-0-dry-run-calls',
    file: BOOTSTRAP_CALLS,
    line: 'plan_line aws "$@" --region "$REGION"',
    replacement: 'aws "$@" --region "$REGION" >/dev/null 2>&1; plan_line aws "$@" --region "$REGION"',
    breaks: 'bootstrap exit 0 with --dry-run: prints every aws call and makes none',
    tests: [{ file: EXIT_CODES, name: 'bootstrap-iam.sh create --dry-run exits 0 and sends AWS nothing' }],
  },
  {
    id: 'bootstrap-ctrl-c-exit-130',
    file: BOOTSTRAP_SCRIPT,
    line: "trap 'exit 130' INT",
    replacement: "trap 'exit 1' INT",
    breaks: 'bootstrap: Ctrl-C undoes the run and exits 130',
    tests: [{ file: BOOTSTRAP, name: 'Ctrl-C in the middle: the run undoes what it created and exits 130' }],
  },
  // --- "The refresh script"
  {
    id: 'terminating-filter',
    file: NAMESPACES,
    line: 'elif [ "$sn_phase" = Terminating ]; then',
    replacement: 'elif [ "$sn_phase" = Terminated ]; then',
    breaks: 'Terminating namespaces are skipped from the listing, never written (the API server would refuse)',
    tests: [{ file: REQUESTS, name: 'a Terminating namespace is skipped from the listing: no PATCH is sent to it' }],
  },
  {
    id: 'target-globs-literal',
    file: NAMESPACES,
    line: '$ma_pattern) return 0 ;;',
    replacement: '"$ma_pattern") return 0 ;;',
    breaks: 'ECR_TARGET_NAMESPACES and ECR_EXCLUDE_NAMESPACES take globs',
    tests: [
      { file: REFRESH, name: 'ECR_TARGET_NAMESPACES takes names and globs' },
      { file: REFRESH, name: 'ECR_EXCLUDE_NAMESPACES globs are skipped and logged' },
    ],
  },
  {
    id: 'exclude-ignored',
    file: NAMESPACES,
    line: 'if [ -n "$exclude_namespaces" ] && matches_any',
    replacement: 'if false && matches_any',
    breaks: 'excluded namespaces are skipped and logged, never written',
    tests: [{ file: REFRESH, name: 'ECR_EXCLUDE_NAMESPACES globs are skipped and logged' }],
  },
  {
    id: 'missing-name-unreported',
    file: NAMESPACES,
    line: 'skip "$sn_pattern" "namespace not found"',
    replacement: ':',
    breaks: 'a namespace named in ECR_TARGET_NAMESPACES that does not exist is reported',
    tests: [{ file: REFRESH, name: 'reports a named namespace that does not exist' }],
  },
  {
    id: 'selector-dropped',
    file: SETTINGS,
    line: '|| selector_query="labelSelector=',
    replacement: '|| selector_ignored="labelSelector=',
    breaks: 'ECR_NAMESPACE_SELECTOR limits the namespace list',
    tests: [{ file: REFRESH, name: 'ECR_NAMESPACE_SELECTOR limits the namespaces by label' }],
  },
  {
    id: 'adopt-by-default',
    file: SETTINGS,
    line: 'adopt_existing=${ECR_ADOPT_EXISTING:-false}',
    replacement: 'adopt_existing=${ECR_ADOPT_EXISTING:-true}',
    breaks: 'a same-named Secret of another field manager is not overwritten unless adopting is asked for',
    tests: [{ file: REFRESH, name: 'a same-named Secret of another field manager is left byte-identical' }],
  },
  {
    id: 'field-manager-renamed',
    file: SCRIPT,
    line: 'readonly FIELD_MANAGER=ecr-k8s-credentials',
    replacement: 'readonly FIELD_MANAGER=ecr-k8s-credential',
    breaks: 'server-side apply with field manager ecr-k8s-credentials',
    tests: [{ file: REFRESH, name: 'writes a valid pull secret into every namespace, and a second run refreshes it' }],
  },
  {
    id: 'annotation-prefix',
    file: SCRIPT,
    line: 'readonly ANNOTATION_PREFIX=ecr-k8s-credentials',
    replacement: 'readonly ANNOTATION_PREFIX=ecr-k8s',
    breaks: 'the Secret carries the ecr-k8s-credentials/expires-at and /registries annotations',
    tests: [{ file: REFRESH, name: 'writes a valid pull secret into every namespace, and a second run refreshes it' }],
  },
  {
    id: 'api-retries-fewer',
    file: API,
    line: 'readonly API_RETRIES=4',
    replacement: 'readonly API_RETRIES=1',
    breaks: '429, 5xx and lost connections are sent again up to 4 times',
    tests: [{ file: REFRESH, name: 'a throttled write (429, Retry-After) is retried and lands' }],
  },
  {
    id: 'redaction-off',
    file: LOG,
    line: '*"$r_secret"*) r_text=',
    replacement: '*"$r_secret"*) break; r_text=',
    breaks: 'every logged value is scrubbed of the token (an error message that echoes the Secret)',
    // Answers are scrubbed as they are read (read_reasons), before they reach quote: this one
    // holds quote's own redaction.
    tests: [{ file: 'test/e2e/log-redaction.test.ts', name: 'each known secret, however often it appears' }],
  },
  {
    id: 'logfmt-quotes-unescaped',
    file: LOG,
    line: 'quoted=$quoted$q_head\\\\$q_char',
    replacement: 'quoted=$quoted$q_head$q_char',
    breaks: 'the log is logfmt: quotes inside a reason are escaped',
    tests: [{ file: REFRESH, name: "each namespace's result comes from its own response" }],
  },
  {
    id: 'token-in-child-environment',
    file: TOKEN,
    line: 'lt_expiry=$(date -u -d "@$token_expiry"',
    replacement: 'lt_expiry=$(ECR_TOKEN=$token date -u -d "@$token_expiry"',
    breaks: "the token never appears in any process's argv or environment (here: one short-lived date)",
    tests: [{ file: REFRESH, name: 'the token appears in no process argv or environment during a run' }],
  },
  {
    id: 'secrets-exported',
    file: LOG,
    line: 'secret_values=',
    replacement: 'export secret_values=',
    breaks: 'the token and the encoded docker config live in unexported shell variables',
    tests: [{ file: REFRESH, name: 'the token appears in no process argv or environment during a run' }],
  },
  {
    id: 'api-token-in-argv',
    file: API,
    line: 'curl -q --config - 2>"$work/curl.err" || :',
    replacement: 'curl -q --config - -H "Authorization: Bearer $api_token" 2>"$work/curl.err" || :',
    breaks: 'the API token reaches curl in its config on stdin, never in argv',
    tests: [{ file: REFRESH, name: 'the token appears in no process argv or environment during a run' }],
  },
  {
    id: 'exec-plugin-accepted',
    file: API,
    line: '[ -z "$ka_plugin" ] || [ -n "$ka_token$aa_token_file$ka_cert" ] ||',
    replacement: 'true || [ -n "$ka_token$aa_token_file$ka_cert" ] ||',
    breaks: 'a kubeconfig user that needs an exec plugin is refused with exit 2',
    tests: [{ file: REFRESH, name: 'a kubeconfig whose user needs an exec plugin is a configuration error' }],
  },
  {
    id: 'in-pod-ignored',
    file: API,
    line: 'if [ -z "${KUBECONFIG:-}" ] && [ -n "${KUBERNETES_SERVICE_HOST:-}" ]',
    replacement: 'if false && [ -n "${KUBERNETES_SERVICE_HOST:-}" ]',
    breaks: 'in a pod curl uses the ServiceAccount token and CA and KUBERNETES_SERVICE_HOST/_PORT, no kubectl',
    tests: [{ file: REFRESH, name: 'in a pod: the ServiceAccount token and CA from their mount' }],
  },
  {
    id: 'curl-not-checked',
    file: SETTINGS,
    line: 'for rs_tool in curl aws kubectl',
    replacement: 'for rs_tool in aws kubectl',
    breaks: 'curl is checked at start like the other tools: a missing tool stops the run before any call',
    tests: [{ file: REFRESH, name: 'an image without curl stops the run before any call' }],
  },
  {
    id: 'unanswered-namespaces-dropped',
    file: API,
    line: 'END { for (position in key) if (!(position in answered))',
    replacement: 'END { for (position in key) if (0 && !(position in answered))',
    breaks:
      'one result per namespace: those curl never answered (curl killed) are reported failed, as failures that may pass',
    tests: [{ file: EXIT_CODES, name: 'refresh exits 6 when the only failures may pass' }],
  },
  {
    id: 'list-error-reason-lost',
    file: NAMESPACES,
    line: 'response_reason "$1"',
    replacement: 'reason=$(status_message "$1")',
    breaks:
      "a namespace list that fails is logged with what the answer said, whatever the body (a proxy's page is no JSON)",
    tests: [
      { file: EXIT_CODES, name: "refresh exits 4 when the namespace list is answered by a load balancer's 503 page" },
    ],
  },
  {
    id: 'namespace-list-twice',
    file: NAMESPACES,
    line: 'rm -f "$work/namespaces.json"',
    replacement: 'get_namespace_table "$work/namespaces.json" || :; rm -f "$work/namespaces.json"',
    breaks: 'one LIST of all namespaces, then one PATCH per namespace, no reads',
    tests: [{ file: REQUESTS, name: 'one namespace LIST and one PATCH per target namespace, no other request' }],
  },
  {
    id: 'vanished-namespace-failed',
    file: WRITE,
    line: '404)',
    replacement: '405)',
    breaks: 'a namespace that disappears mid-run is skipped, not failed',
    tests: [
      {
        file: REFRESH,
        name: 'a namespace that starts terminating or disappears during the run is skipped, not failed',
      },
    ],
  },
  {
    id: 'event-not-warning',
    file: EVENTS_PART,
    line: 'type: "Warning",',
    replacement: 'type: "Normal",',
    breaks: 'a run with failures or conflicts leaves a Warning Event on its Job',
    tests: [{ file: EVENTS, name: 'a run with a conflict leaves one Warning Event on its Job' }],
  },
  // --- "Namespace watcher"
  {
    id: 'watcher-never-pends',
    file: WATCH,
    line: 'pend "$ws_name" "$ws_phase"',
    replacement: ':',
    breaks: 'every namespace that appears after start gets the Secret',
    tests: [{ file: WATCHER, name: 'a namespace created after start has the Secret within 10 s' }],
  },
  {
    id: 'watcher-refusal-silent',
    file: WATCH,
    line: `printf 'watch refused: HTTP %s: %s\\n'`,
    replacement: `: printf 'watch refused: HTTP %s: %s\\n'`,
    breaks: 'a watch the API server refuses is logged with its code and message',
    tests: [
      { file: WATCHER, name: "a ServiceAccount that may list but not watch gets the API server's refusal in the log" },
    ],
  },
  {
    id: 'watcher-heartbeat-stale',
    file: WATCH,
    line: `|| printf '%s\\n' "$now_s" >"$heartbeat_file"`,
    replacement: '|| :',
    breaks: 'the loop rewrites a heartbeat file at least every second (the probes read it)',
    tests: [{ file: WATCHER, name: 'a namespace created after start has the Secret within 10 s' }],
  },
  // --- "ServiceAccounts that carry the secret"
  {
    id: 'service-account-prepends',
    file: SERVICE_ACCOUNTS,
    line: '"path\\":\\"/imagePullSecrets/-\\"',
    replacement: '"path\\":\\"/imagePullSecrets/0\\"',
    breaks: 'entries others put in imagePullSecrets stay, in their order; ours is appended',
    tests: [{ file: ACCOUNTS, name: 'the Secret is appended after the entries of others, in their order' }],
  },
  {
    id: 'service-account-rewritten',
    file: SERVICE_ACCOUNTS,
    line: 'if (has[$4] == "true") {',
    replacement: 'if (has[$4] == "yes") {',
    breaks: 'an account that already lists the secret is not written at all',
    tests: [{ file: ACCOUNTS, name: 'a second run writes nothing: the resourceVersions stay' }],
  },
  // --- "Argo CD pulling Helm charts and OCI artifacts from ECR"
  {
    id: 'argocd-conflict-not-counted',
    file: 'src/scripts/ecr-argocd.sh',
    line: '*) argocd_failed=$((argocd_failed + 1)) ;;',
    replacement: '*) : ;;',
    breaks: 'a repo-creds Secret another manager owns is a conflict that makes the run exit 5',
    tests: [{ file: ARGOCD_TESTS, name: 'a same-named Secret of another owner is a conflict (exit 5)' }],
  },
  {
    id: 'argocd-helm-without-oci',
    file: 'src/scripts/ecr-argocd.sh',
    line: '{type: "helm", enableOCI: "true"}',
    replacement: '{type: "helm"}',
    breaks: 'the Helm repo-creds Secret carries enableOCI, so Argo CD pulls charts from ECR as OCI',
    tests: [{ file: ARGOCD_TESTS, name: 'a run writes one Helm OCI and one OCI repo-creds Secret per registry' }],
  },
  // --- "ECR Public"
  {
    id: 'ecr-public-source-dropped',
    file: TOKEN,
    line: 'token_sources="$token_sources public="',
    replacement: ':',
    breaks: 'with ECR_PUBLIC=true every pull secret also holds public.ecr.aws',
    tests: [{ file: ECR_PUBLIC_TESTS, name: 'with keys curl signs the ECR Public request' }],
  },
  {
    id: 'ecr-public-signed-for-ecr',
    file: ECR_PUBLIC_PART,
    line: 'signed_authorization_token "$(ecr_public_api_url)/" "$ECR_PUBLIC_REGION" ecr-public',
    replacement: 'signed_authorization_token "$(ecr_public_api_url)/" "$ECR_PUBLIC_REGION" ecr',
    breaks: "curl signs ECR Public's request for the ecr-public service in us-east-1",
    tests: [{ file: ECR_PUBLIC_TESTS, name: 'with keys curl signs the ECR Public request' }],
  },
  {
    id: 'ecr-public-answer-read-as-list',
    file: TOKEN,
    line: 'public) ft_data=.authorizationData ;;',
    replacement: "public) ft_data='.authorizationData[0]' ;;",
    breaks: "ECR Public's authorizationData is one object, not a list as ECR's",
    tests: [{ file: ECR_PUBLIC_TESTS, name: 'with a session token the aws CLI asks ECR Public' }],
  },
  {
    id: 'ecr-public-any-partition',
    file: SETTINGS,
    line: 'ecr_public_available "$aws_region" ||',
    replacement: 'true ||',
    breaks: 'ECR_PUBLIC=true with a cn-* or us-gov-* AWS_REGION is a configuration error before any call',
    tests: [{ file: ECR_PUBLIC_TESTS, name: 'is a configuration error before any AWS call (exit 2)' }],
  },
  {
    id: 'ecr-public-with-fips',
    file: SETTINGS,
    line: '[ "${AWS_USE_FIPS_ENDPOINT:-false}" = false ] ||',
    replacement: 'true ||',
    breaks:
      'ECR_PUBLIC=true with AWS_USE_FIPS_ENDPOINT=true is a configuration error (ECR Public has no FIPS endpoint)',
    tests: [{ file: ECR_PUBLIC_TESTS, name: 'is a configuration error before any AWS call (exit 2)' }],
  },
  {
    id: 'ecr-public-asked-per-tenant',
    file: TOKEN,
    line: 'if [ "$gt_source" = public= ] && [ -n "${public_token:-}" ]; then',
    replacement: 'if false; then',
    breaks: "ECR Public's token is the base credentials', asked once a run whatever the tenants",
    tests: [{ file: ECR_PUBLIC_TESTS, name: 'with a tenant role, its Secret holds the same public.ecr.aws entry' }],
  },
  {
    id: 'ecr-public-argocd-repo-creds',
    file: 'src/scripts/ecr-argocd.sh',
    line: '| select(.value != "public.ecr.aws")',
    replacement: '| select(true)',
    breaks:
      "with --ecr-public Argo CD still gets exactly the private registries' repo-creds (their Role names no more)",
    tests: [{ file: ARGOCD_TESTS, name: 'with ECR_PUBLIC=true the pull secret gains public.ecr.aws' }],
  },
  // --- "Tenants: a role per team"
  {
    id: 'tenant-glob-taken-literally',
    file: TENANTS,
    line: '        $to_match)',
    replacement: '        "$to_match")',
    breaks: "a tenant MATCH like team-a-* is a glob: every namespace it matches gets the tenant role's token",
    tests: [{ file: TENANT_TESTS, name: TENANT_MAPPING }],
  },
  {
    id: 'tenant-selector-never-matches',
    file: TENANTS,
    line: '*",$to_tenant,"*)',
    replacement: '*",never,"*)',
    breaks: "a tenant MATCH like team=b is a label selector: the namespaces it selects get the tenant role's token",
    tests: [{ file: TENANT_TESTS, name: TENANT_MAPPING }],
  },
  {
    id: 'tenant-role-not-used',
    file: TENANTS,
    line: '[ "$1" -gt 0 ] || return 0',
    replacement: 'return 0',
    breaks: "a tenant's namespaces hold a token minted by its role, not the base credentials'",
    tests: [{ file: TENANT_TESTS, name: TENANT_MAPPING }],
  },
  {
    id: 'tenants-only-ignored',
    file: TENANTS,
    line: '[ "$tenants_only" = false ] || group=-1',
    replacement: ':',
    breaks: 'with ECR_TENANTS_ONLY=true a namespace no tenant matches is skipped and gets no Secret',
    tests: [{ file: TENANT_TESTS, name: 'ECR_TENANTS_ONLY=true: a namespace no tenant matches is skipped' }],
  },
  {
    id: 'tenant-token-failure-not-isolated',
    file: TENANTS,
    line: 'if [ -f "$work/token-failed.$wtg_group" ]; then',
    replacement: 'if false; then',
    breaks: "a tenant role without a token fails only its tenant's namespaces; the others are written",
    tests: [
      { file: TENANT_TESTS, name: 'a tenant role the base principal may not assume fails only its own namespaces' },
    ],
  },
  {
    id: 'tenant-tokens-not-kept-across-groups',
    file: TOKEN,
    line: '*) kt_cache="$kt_cache$kt_line$NL" ;;',
    replacement: '*) : ;;',
    breaks: "the watcher keeps each role's token between batches, as it keeps the base one",
    tests: [{ file: TENANT_TESTS, name: "keeps each role's token" }],
  },
  // --- "Credentials: scripts/bootstrap-iam.sh"
  {
    id: 'bootstrap-untagged-user-taken',
    file: BOOTSTRAP_USER,
    line: '[[ ${OUT##*[[:space:]]} == "$MANAGED_BY" ]] && USER_OURS=true',
    replacement: 'USER_OURS=true',
    breaks: 'users it did not create (no tag) are never changed',
    tests: [{ file: BOOTSTRAP, name: 'an untagged user of the same name is never taken over' }],
  },
  {
    id: 'bootstrap-rotate-keeps-old-key',
    file: BOOTSTRAP_USER,
    line: 'if ! aws_call iam delete-access-key --user-name "$USER_NAME" --access-key-id "$1"; then',
    replacement: 'if false; then',
    breaks: 'rotate deletes the old key once the new one is proven from the Secret',
    tests: [{ file: BOOTSTRAP, name: 'in-cluster lifecycle: create, create again, rotate, delete' }],
  },
  {
    id: 'bootstrap-output-world-readable',
    file: BOOTSTRAP_SECRET,
    line: '! chmod 600 "$tmp"',
    replacement: '! chmod 644 "$tmp"',
    breaks: '--output writes the Secret manifest with mode 0600',
    tests: [{ file: BOOTSTRAP, name: 'create --output FILE writes a 0600 manifest' }],
  },
  {
    id: 'bootstrap-delete-unconfirmed',
    file: BOOTSTRAP_CALLS,
    line: `if ! IFS= read -r answer || [[ $answer != yes && $answer != y ]]; then`,
    replacement: 'if ! IFS= read -r answer; then',
    breaks: 'delete removes nothing without a confirmation',
    tests: [{ file: BOOTSTRAP, name: 'in-cluster lifecycle: create, create again, rotate, delete' }],
  },
  // --- "Credentials: scripts/bootstrap-iam.sh": tenant roles and --ecr-public
  {
    id: 'bootstrap-tenant-trust-admits-anyone',
    file: BOOTSTRAP_TENANT,
    line: '"$BASE_ARN"',
    after: '"Principal":{"AWS":"%s"}',
    replacement: "'*'",
    breaks: "a tenant role's trust admits only the base principal",
    tests: [
      { file: BOOTSTRAP_TENANT_TESTS, name: 'a principal the trust does not name is refused AssumeRole' },
      { file: BOOTSTRAP_TENANT_TESTS, name: 'create --tenant writes the role with exactly the pull policy' },
    ],
  },
  {
    id: 'bootstrap-tenant-repositories-unscoped',
    file: BOOTSTRAP_TENANT,
    line: 'arns+=("arn:$PARTITION:ecr:$REGION:$ACCOUNT_ID:repository/$repo")',
    replacement: 'arns+=("arn:$PARTITION:ecr:*:$ACCOUNT_ID:repository/*")',
    breaks: 'a tenant role pulls only its --repositories, pinned to --region',
    tests: [{ file: BOOTSTRAP_TENANT_TESTS, name: 'create --tenant writes the role with exactly the pull policy' }],
  },
  {
    id: 'bootstrap-tenant-delete-leaves-grant',
    file: BOOTSTRAP_TENANT,
    line: 'for kind in ${GRANT_KINDS[@]+"${GRANT_KINDS[@]}"}; do',
    replacement: 'for kind in; do',
    breaks: "delete --tenant removes the base principal's grant with the role",
    tests: [
      // The create test makes team-a, which the delete test then deletes.
      { file: BOOTSTRAP_TENANT_TESTS, name: 'create --tenant writes the role with exactly the pull policy' },
      { file: BOOTSTRAP_TENANT_TESTS, name: 'delete --tenant removes exactly the role, its policy and the base grant' },
    ],
  },
  {
    id: 'bootstrap-tenant-delete-grant-on-user-only',
    file: BOOTSTRAP_TENANT,
    line: 'for kind in user role; do',
    replacement: 'for kind in user; do',
    breaks: 'delete --tenant finds the grant on the base role as well as the base user',
    tests: [{ file: BOOTSTRAP_TENANT_TESTS, name: 'a web-identity base: the trust names the base role' }],
  },
  {
    id: 'bootstrap-tenant-undo-keeps-role',
    file: BOOTSTRAP_TENANT,
    line: 'push_undo undo_delete_tenant_role',
    replacement: ':',
    breaks: 'a failed create --tenant undoes the role it made',
    tests: [{ file: BOOTSTRAP_TENANT_TESTS, name: 'a create --tenant that fails at the base grant undoes the role' }],
  },
  {
    id: 'bootstrap-ecr-public-any-partition',
    file: BOOTSTRAP_ARGS,
    line: 'if $ECR_PUBLIC && [[ $PARTITION != aws ]]; then',
    replacement: 'if false; then',
    breaks: '--ecr-public is refused outside the aws partition',
    tests: [{ file: BOOTSTRAP_TENANT_TESTS, name: 'is refused with exit 2 before any AWS call' }],
  },
];
