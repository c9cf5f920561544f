import type { RawOptions } from '../src/options.js';

/**
 * One row per rule. The command names the flag; the construct gives the same text naming the
 * prop, so every option a message refers to must go through its Naming.
 */
export const BAD_OPTIONS: [string, RawOptions, string][] = [
  [
    '13h schedule gap',
    { schedule: '0 */13 * * *' },
    '--schedule "0 */13 * * *" leaves a 13h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".',
  ],
  [
    'exactly 12h gap',
    { schedule: '0 0,12 * * *' },
    '--schedule "0 0,12 * * *" leaves a 12h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".',
  ],
  [
    'weekdays only',
    { schedule: '0 */6 * * 1-5' },
    '--schedule "0 */6 * * 1-5" leaves a 54h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".',
  ],
  [
    'gap with minutes',
    { schedule: '30 0,12 * * *' },
    '--schedule "30 0,12 * * *" leaves a 12h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".',
  ],
  [
    'cron syntax',
    { schedule: '61 */6 * * *' },
    '--schedule "61 */6 * * *" is not a valid cron schedule: minute field has 61, outside 0-59. Use a 5-field schedule, e.g. "0 */6 * * *".',
  ],
  [
    'every minute for an hour',
    { schedule: '* */6 * * *' },
    '--schedule "* */6 * * *" starts runs 1 minute(s) apart, so most are skipped while the previous one runs and the API server is loaded for nothing. Pin the minute field, e.g. "0 */6 * * *".',
  ],
  [
    'tenant without a role',
    { tenant: ['team-a-*'] },
    '--tenant "team-a-*" is not MATCH=ROLE_ARN. Use e.g. "team-a-*=arn:aws:iam::123456789012:role/ecr-pull-team-a".',
  ],
  [
    'tenant role not an ARN',
    { tenant: ['team-a-*=arn:aws:iam::1234:role/a'] },
    '--tenant "team-a-*=arn:aws:iam::1234:role/a": "arn:aws:iam::1234:role/a" is not an IAM role ARN. Use MATCH=arn:PARTITION:iam::ACCOUNT:role/NAME, e.g. "team-a-*=arn:aws:iam::123456789012:role/ecr-pull-team-a"; scripts/bootstrap-iam.sh creates such a role and prints its ARN (README, "Tenants").',
  ],
  [
    'tenant role of another partition',
    { tenant: ['team-a-*=arn:aws-cn:iam::123456789012:role/a'], region: 'eu-west-1' },
    '--tenant "team-a-*=arn:aws-cn:iam::123456789012:role/a": the role is of partition aws-cn, but --region "eu-west-1" is in aws; credentials never cross partitions. Use a role ARN starting "arn:aws:iam::".',
  ],
  [
    'tenant selector not a selector',
    { tenant: ['team==a b=arn:aws:iam::123456789012:role/a'] },
    '--tenant "team==a b=arn:aws:iam::123456789012:role/a": "team==a b" holds "=", "(", "," or a leading "!", so it is read as a label selector, and it is not one. Use kubectl\'s -l syntax, e.g. "team=a" or "env in (prod,staging)".',
  ],
  [
    'tenant glob with upper case',
    { tenant: ['Team-A=arn:aws:iam::123456789012:role/a'] },
    '--tenant "Team-A=arn:aws:iam::123456789012:role/a": "Team-A" is neither a namespace name or glob (lowercase letters, digits, "-", "*" and "?") nor a label selector ("team=a"). Use e.g. "team-a-*=arn:aws:iam::123456789012:role/ecr-pull-team-a".',
  ],
  [
    'tenant MATCH twice',
    { tenant: ['team-a-*=arn:aws:iam::123456789012:role/a', 'team-a-*=arn:aws:iam::123456789012:role/b'] },
    '--tenant names "team-a-*" twice; the first match wins, so the second would never apply. Give each MATCH once.',
  ],
  [
    'tenants-only without tenants',
    { tenantsOnly: true },
    '--tenants-only leaves namespaces no tenant matches without a Secret, and no --tenant is given, so no namespace would get one. Add --tenant MATCH=ROLE_ARN, or drop --tenants-only.',
  ],
  [
    'namespace not a DNS label',
    { namespace: 'ECR_Updater' },
    '--namespace "ECR_Updater" is not a valid namespace name: use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit, e.g. "ecr-updater".',
  ],
  [
    'a shared system namespace',
    { namespace: 'kube-system' },
    '--namespace "kube-system" is a namespace other workloads live in; the bundle owns its namespace and labels it to enforce Pod Security "restricted", which would block pods there. Use a dedicated namespace, e.g. "ecr-updater".',
  ],
  [
    'service account name',
    { serviceAccount: 'Updater!' },
    '--service-account "Updater!" is not a valid Kubernetes object name: use lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, e.g. "updater".',
  ],
  [
    'secret name',
    { secretName: '-ecr' },
    '--secret-name "-ecr" is not a valid Kubernetes object name: use lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, e.g. "ecr".',
  ],
  [
    'pull secret name equals AWS secret name',
    { secretName: 'aws-ecr-credentials' },
    '--secret-name and --aws-secret-name are both "aws-ecr-credentials": the refresh would overwrite its own AWS keys in the updater namespace. Give them different names.',
  ],
  [
    'image',
    { image: 'Alpine/K8s 1.30' },
    '--image "Alpine/K8s 1.30" is not a valid image reference. Use [registry/]repository[:tag][@sha256:digest], e.g. "alpine/k8s:1.30.7".',
  ],
  [
    'image without tag or digest',
    { image: 'registry.example.com:5000/alpine/k8s' },
    '--image "registry.example.com:5000/alpine/k8s" has neither a tag nor a digest, so each node pulls whatever "latest" is when it starts a pod. Pin it, best by digest: "registry.example.com:5000/alpine/k8s:TAG@sha256:DIGEST", e.g. "alpine/k8s:1.30.7".',
  ],
  [
    'image :latest',
    { image: 'alpine/k8s:latest' },
    '--image "alpine/k8s:latest" names the moving tag "latest": nodes would run different images, and a rebuilt one unseen. Use a version tag, best with its digest, e.g. "alpine/k8s:1.30.7@sha256:DIGEST".',
  ],
  [
    'a list over the 128 KiB of one environment variable',
    {
      excludeNamespaces: Array.from({ length: 2_100 }, (_, i) => `team-${String(i).padStart(4, '0')}-`.padEnd(63, 'x')),
    },
    '--exclude-namespaces (2100 entries) reaches the pod as ECR_EXCLUDE_NAMESPACES, 134,423 bytes; Linux starts no container with an environment variable over 131,072 bytes (128 KiB). Cover the namespaces with fewer globs (e.g. "team-*"), or label them and select them with --namespace-selector.',
  ],
  [
    'lists that fit one variable each, but not a client-side apply together',
    {
      targetNamespaces: Array.from({ length: 9_000 }, (_, i) => `team-${String(i).padStart(5, '0')}-*`),
      excludeNamespaces: Array.from({ length: 8_000 }, (_, i) => `test-${String(i).padStart(5, '0')}-*`),
    },
    '--target-namespaces, --exclude-namespaces together reach the pod as 220,998 bytes of environment; over 200,000 the CronJob no longer fits the 262,144-byte annotation a client-side kubectl apply keeps. Cover the namespaces with fewer globs (e.g. "team-*"), or label them and select them with --namespace-selector.',
  ],
  [
    'prometheus rule label not KEY=VALUE',
    { prometheusRule: true, prometheusRuleLabels: ['release'] },
    '--prometheus-rule-labels "release" is not a label KEY=VALUE (a key of letters, digits, "-", "_", "." with an optional DNS prefix and "/"; a value of at most 63 such characters), e.g. "release=kube-prometheus-stack".',
  ],
  [
    'prometheus rule label the bundle sets itself',
    { prometheusRule: true, prometheusRuleLabels: ['app.kubernetes.io/name=x'] },
    '--prometheus-rule-labels "app.kubernetes.io/name=x": the bundle sets the app.kubernetes.io/* labels itself. Select the rule by another label, e.g. "release=kube-prometheus-stack".',
  ],
  [
    'prometheus rule label twice',
    { prometheusRule: true, prometheusRuleLabels: ['release=a', 'release=b'] },
    '--prometheus-rule-labels names "release" twice. Give each label once.',
  ],
  [
    'prometheus rule labels without the rule',
    { prometheusRuleLabels: ['release=kube-prometheus-stack'] },
    '--prometheus-rule-labels is only used with --prometheus-rule, which is off: nothing would carry it. Add --prometheus-rule, or drop --prometheus-rule-labels.',
  ],
  [
    'runbook URL not a URL',
    { prometheusRule: true, prometheusRuleRunbookUrl: 'wiki/ecr' },
    '--prometheus-rule-runbook-url "wiki/ecr" is not an http(s) URL. Use e.g. "https://wiki.example.com/runbooks/ecr-credentials".',
  ],
  [
    'runbook URL without the rule',
    { prometheusRuleRunbookUrl: 'https://wiki.example.com/ecr' },
    '--prometheus-rule-runbook-url is only used with --prometheus-rule, which is off: nothing would carry it. Add --prometheus-rule, or drop --prometheus-rule-runbook-url.',
  ],
  [
    'region',
    { region: 'useast1' },
    '--region "useast1" is not an AWS region name. Use e.g. "us-east-1" or "eu-central-1".',
  ],
  [
    'registry given as a URL',
    { registry: ['https://210987654321.dkr.ecr.eu-west-1.amazonaws.com/app'] },
    '--registry "https://210987654321.dkr.ecr.eu-west-1.amazonaws.com/app" is not an ECR registry host. Did you mean "210987654321.dkr.ecr.eu-west-1.amazonaws.com"?',
  ],
  [
    'a China registry under the global domain',
    { registry: ['123456789012.dkr.ecr.cn-north-1.amazonaws.com'] },
    '--registry "123456789012.dkr.ecr.cn-north-1.amazonaws.com" is not an ECR registry host. Did you mean "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"?',
  ],
  [
    'registry that is not ECR',
    { registry: ['ghcr.io'] },
    '--registry "ghcr.io" is not an ECR registry host. Use ACCOUNT.dkr.ecr.REGION.amazonaws.com (.amazonaws.com.cn in China, dkr.ecr-fips in US regions for FIPS), e.g. "123456789012.dkr.ecr.eu-west-1.amazonaws.com".',
  ],
  [
    'a FIPS registry host outside the US regions',
    { registry: ['123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com'] },
    '--registry "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com" is not an ECR registry host. Use ACCOUNT.dkr.ecr.REGION.amazonaws.com (.amazonaws.com.cn in China, dkr.ecr-fips in US regions for FIPS), e.g. "123456789012.dkr.ecr.eu-west-1.amazonaws.com".',
  ],
  [
    'target namespace',
    { targetNamespaces: ['Team_A'] },
    '--target-namespaces "Team_A" is not a namespace name or glob: use lowercase letters, digits, "-", and the wildcards "*" and "?", e.g. "team-*".',
  ],
  [
    'exclude glob',
    { excludeNamespaces: ['kube-[a-z]*'] },
    '--exclude-namespaces "kube-[a-z]*" is not a namespace name or glob: use lowercase letters, digits, "-", and the wildcards "*" and "?", e.g. "team-*".',
  ],
  [
    'label selector',
    { namespaceSelector: 'env in (prod' },
    '--namespace-selector "env in (prod" is not a label selector. Use kubectl\'s -l syntax, e.g. "ecr-pull=enabled" or "env in (prod,staging),!no-ecr".',
  ],
  [
    'CIDR without mask',
    { apiServerCidr: ['10.0.0.1'] },
    '--api-server-cidr "10.0.0.1" is not a valid CIDR: the prefix length is missing. Did you mean "10.0.0.1/32"?',
  ],
  [
    'CIDR with host bits',
    { apiServerCidr: ['10.0.0.1/24'] },
    '--api-server-cidr "10.0.0.1/24" is not a valid CIDR: it has host bits set. Did you mean "10.0.0.0/24"?',
  ],
  [
    'CIDR prefix too long',
    { apiServerCidr: ['10.0.0.0/33'] },
    '--api-server-cidr "10.0.0.0/33" is not a valid CIDR: the prefix length must be 0-32. Use e.g. "10.0.0.10/32" or "192.168.0.0/24".',
  ],
  [
    'CIDR not an address',
    { apiServerCidr: ['api.example.com/32'] },
    '--api-server-cidr "api.example.com/32" is not a valid CIDR: "api.example.com" is not an IPv4 or IPv6 address. Use e.g. "10.0.0.10/32" or "192.168.0.0/24".',
  ],
  [
    'port',
    { apiServerPort: 70000 },
    '--api-server-port "70000" is not a TCP port. Use a whole number from 1 to 65535, e.g. 6443.',
  ],
  [
    'CPU quantity',
    { cpuRequest: '50 m' },
    '--cpu-request "50 m" is not a positive CPU quantity. Use e.g. "50m" or "0.1".',
  ],
  ['zero CPU limit', { cpuLimit: '0' }, '--cpu-limit "0" is not a positive CPU quantity. Use e.g. "50m" or "0.1".'],
  [
    'memory quantity',
    { memoryLimit: '128MB' },
    '--memory-limit "128MB" is not a positive memory quantity. Use e.g. "64Mi" or "1Gi".',
  ],
  [
    'request above limit',
    { memoryRequest: '256Mi' },
    '--memory-request "256Mi" is more than --memory-limit "128Mi"; Kubernetes rejects a request above its limit. Lower the request or raise the limit.',
  ],
  ['empty out dir', { outDir: ' ' }, '--out-dir is empty. Give a directory, e.g. --out-dir dist.'],
  [
    'a ServiceAccount name with capitals',
    { patchServiceAccounts: ['Default'] },
    '--patch-service-accounts "Default" is not a ServiceAccount name: use lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, e.g. "default".',
  ],
  [
    'Argo CD namespace not a namespace name',
    { argocdRepoCreds: 'Argo_CD' },
    '--argocd-repo-creds "Argo_CD" is not a valid namespace name: give the namespace Argo CD runs in, e.g. "argocd".',
  ],
  [
    'Argo CD Secret names over 253 characters',
    { argocdRepoCreds: 'argocd', secretName: 'p'.repeat(241) },
    `--secret-name "${'p'.repeat(80)}..." (241 characters) is too long for --argocd-repo-creds: the Argo CD Secrets are named after it with "-argocd-oci-N" appended, at most 253 characters in all. Use a shorter name.`,
  ],
  [
    'a proxy without a port',
    { httpsProxy: 'http://proxy.internal' },
    '--https-proxy "http://proxy.internal" is not a proxy URL with a port. Use http://HOST:PORT, e.g. "http://proxy.internal:3128".',
  ],
  [
    'a proxy URL with credentials',
    { httpsProxy: 'http://user:secret@proxy.internal:3128' },
    '--https-proxy "http://***@proxy.internal:3128" holds credentials, which would be written into the manifests in plain text. Use a proxy that admits the pod by address, e.g. "http://proxy.internal:3128".',
  ],
  [
    'an egress CIDR without its prefix',
    { egressCidr: ['10.1.2.3'] },
    '--egress-cidr "10.1.2.3" is not a valid CIDR: the prefix length is missing. Did you mean "10.1.2.3/32"?',
  ],
  [
    'a --no-proxy entry with a space',
    { httpsProxy: 'http://proxy.internal:3128', noProxy: ['.svc cluster.local'] },
    '--no-proxy ".svc cluster.local" is not a host, domain or CIDR: use e.g. ".svc", "10.0.0.0/8" or "api.internal".',
  ],
  [
    'an STS endpoint with a path',
    { awsEndpointUrlSts: 'https://vpce-0456.sts.eu-west-1.vpce.amazonaws.com/sts' },
    '--aws-endpoint-url-sts "https://vpce-0456.sts.eu-west-1.vpce.amazonaws.com/sts" is not an https endpoint URL. Use e.g. "https://vpce-0123-abcd.api.ecr.eu-west-1.vpce.amazonaws.com".',
  ],
  [
    '--fips in a region without FIPS endpoints',
    { fips: true, region: 'eu-west-1' },
    '--fips: ECR has no FIPS endpoints in --region "eu-west-1", only in the US regions (us-east-1, us-east-2, us-west-1, us-west-2, us-gov-east-1, us-gov-west-1). Use one of those, or drop --fips.',
  ],
  [
    '--ecr-public in the China partition',
    { ecrPublic: true, region: 'cn-north-1' },
    '--ecr-public: ECR Public exists only in the aws partition, and --region "cn-north-1" is in aws-cn, whose credentials it does not accept. Drop --ecr-public (anonymous pulls from public.ecr.aws still work), or use a region of the aws partition.',
  ],
  [
    '--ecr-public in GovCloud',
    { ecrPublic: true, region: 'us-gov-west-1' },
    '--ecr-public: ECR Public exists only in the aws partition, and --region "us-gov-west-1" is in aws-us-gov, whose credentials it does not accept. Drop --ecr-public (anonymous pulls from public.ecr.aws still work), or use a region of the aws partition.',
  ],
  [
    '--ecr-public with --fips',
    { ecrPublic: true, fips: true, region: 'us-east-1' },
    '--ecr-public with --fips: ECR Public has no FIPS endpoint, so its token could only come from a non-FIPS one. Drop --ecr-public (anonymous pulls from public.ecr.aws still work), or --fips.',
  ],
  [
    'an ECR endpoint over http',
    { awsEndpointUrlEcr: 'http://vpce.example' },
    '--aws-endpoint-url-ecr "http://vpce.example" is not an https endpoint URL. Use e.g. "https://vpce-0123-abcd.api.ecr.eu-west-1.vpce.amazonaws.com".',
  ],
  [
    'unknown auth mode',
    { auth: 'irsa' },
    '--auth "irsa" is not a credentials mode. Use "keys" (an IAM user\'s key in a Secret) or "web-identity" (no key in the cluster; needs --role-arn).',
  ],
  [
    'web identity without a role',
    { auth: 'web-identity' },
    '--auth "web-identity" needs --role-arn, the IAM role the ServiceAccount token is exchanged for, e.g. "arn:aws:iam::123456789012:role/ecr-credential-updater"; "scripts/bootstrap-iam.sh create --web-identity" creates it and prints it.',
  ],
  [
    'a role ARN that is a user ARN',
    { auth: 'web-identity', roleArn: 'arn:aws:iam::123456789012:user/ecr' },
    '--role-arn "arn:aws:iam::123456789012:user/ecr" is not an IAM role ARN. Use arn:PARTITION:iam::ACCOUNT:role/NAME, e.g. "arn:aws:iam::123456789012:role/ecr-credential-updater".',
  ],
  [
    'a role with key auth',
    { roleArn: 'arn:aws:iam::123456789012:role/ecr' },
    '--role-arn is only used with --auth "web-identity" (the pod exchanges its ServiceAccount token for that role). Set --auth to "web-identity", or drop --role-arn to keep using the key Secret.',
  ],
  [
    'a token audience with a space',
    { auth: 'web-identity', roleArn: 'arn:aws:iam::123456789012:role/ecr', tokenAudience: 'sts amazonaws' },
    '--token-audience "sts amazonaws" is not a token audience: use one word without spaces or commas, e.g. "sts.amazonaws.com" (what the IAM OIDC provider lists as its client ID).',
  ],
  [
    'a registry role that is not a role ARN',
    { registry: ['210987654321.dkr.ecr.eu-west-1.amazonaws.com=ecr-pull'] },
    '--registry "210987654321.dkr.ecr.eu-west-1.amazonaws.com=ecr-pull": "ecr-pull" after "=" is not an IAM role ARN. Use HOST=ROLE_ARN, e.g. "210987654321.dkr.ecr.eu-west-1.amazonaws.com=arn:aws:iam::210987654321:role/ecr-pull".',
  ],
  [
    'a namespace with the kube- prefix',
    { namespace: 'kube-ecr' },
    '--namespace "kube-ecr" starts with "kube-", the prefix Kubernetes keeps for its own namespaces; the bundle owns its namespace and labels it for Pod Security "restricted". Use a dedicated namespace, e.g. "ecr-updater".',
  ],
  [
    'a secret name one character over the limit',
    { secretName: 'a'.repeat(254) },
    `--secret-name "${'a'.repeat(80)}..." (254 characters) is 254 characters long; a Kubernetes object name has at most 253. Use a shorter name, e.g. "ecr-registry-credentials".`,
  ],
  [
    'a 2 MB schedule is cut short in the message',
    { schedule: 'x'.repeat(2 * 1024 * 1024) },
    `--schedule "${'x'.repeat(80)}..." (2097152 characters) is not a valid cron schedule: it has 1 fields; a schedule has 5 (minute hour day-of-month month day-of-week). Use a 5-field schedule, e.g. "0 */6 * * *".`,
  ],
  [
    'an empty --patch-service-accounts',
    { patchServiceAccounts: [''] },
    '--patch-service-accounts "" gives no value. Give at least one (repeat the flag or separate values with commas), or leave --patch-service-accounts out.',
  ],
  [
    'a --registry of commas only',
    { registry: [' , '] },
    '--registry " , " gives no value. Give at least one (repeat the flag or separate values with commas), or leave --registry out.',
  ],
  [
    'a key Secret name with web identity',
    { auth: 'web-identity', roleArn: 'arn:aws:iam::123456789012:role/ecr', awsSecretName: 'aws-keys' },
    '--aws-secret-name "aws-keys" names the Secret with an IAM user\'s key, which only --auth "keys" reads; with --auth "web-identity" there is no key Secret. Drop --aws-secret-name, or set --auth to "keys".',
  ],
  [
    'a token audience with keys',
    { tokenAudience: 'sts.amazonaws.com' },
    '--token-audience "sts.amazonaws.com" is the audience of the ServiceAccount token that --auth "web-identity" exchanges for a role; with --auth "keys" there is no such token. Drop --token-audience, or set --auth to "web-identity" with --role-arn.',
  ],
  [
    '--no-proxy without a proxy',
    { noProxy: ['.corp'] },
    '--no-proxy lists what bypasses the proxy, and no --https-proxy is set, so it would do nothing. Set --https-proxy, or drop --no-proxy.',
  ],
  [
    '--egress-cidr without the NetworkPolicy',
    { networkPolicy: false, egressCidr: ['10.1.2.3/32'] },
    '--egress-cidr only shapes the NetworkPolicy, and --network-policy is false, so it would do nothing. Drop --egress-cidr, or render the NetworkPolicy.',
  ],
  [
    '--api-server-port without the NetworkPolicy',
    { networkPolicy: false, apiServerPort: 443 },
    '--api-server-port only shapes the NetworkPolicy, and --network-policy is false, so it would do nothing. Drop --api-server-port, or render the NetworkPolicy.',
  ],
  [
    '--api-server-cidr without the NetworkPolicy or a proxy',
    { networkPolicy: false, apiServerCidr: ['10.0.0.10/32'] },
    '--api-server-cidr only shapes the NetworkPolicy (and the default --no-proxy of a proxy), and --network-policy is false, so it would do nothing. Drop --api-server-cidr, or render the NetworkPolicy.',
  ],
  [
    '--gitops without the first-run Job',
    { initialJob: false, gitops: 'argocd' },
    '--gitops "argocd" only changes the first-run Job, and --initial-job is false, so it would do nothing. Drop --gitops, or render the Job.',
  ],
  [
    'a China role with a commercial region',
    { auth: 'web-identity', roleArn: 'arn:aws-cn:iam::123456789012:role/ecr', region: 'us-east-1' },
    '--role-arn "arn:aws-cn:iam::123456789012:role/ecr" is a role of partition aws-cn, but --region "us-east-1" is in aws; credentials never cross partitions. Use a role ARN starting "arn:aws:iam::", or a region of aws-cn.',
  ],
  [
    'a GovCloud role on a commercial registry',
    { registry: ['210987654321.dkr.ecr.eu-west-1.amazonaws.com=arn:aws-us-gov:iam::210987654321:role/ecr-pull'] },
    '--registry "210987654321.dkr.ecr.eu-west-1.amazonaws.com=arn:aws-us-gov:iam::210987654321:role/ecr-pull": the role is of partition aws-us-gov, but the registry is in aws; credentials never cross partitions. Use a role ARN starting "arn:aws:iam::".',
  ],
  [
    'a China registry with a commercial region',
    { registry: ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn'] },
    '--registry "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn" is in partition aws-cn, but --region "us-east-1" is in aws, and the refresh\'s credentials never cross partitions. Render a bundle of its own for that registry, with a --region of aws-cn.',
  ],
  [
    'an unknown GitOps tool',
    { gitops: 'argo' },
    '--gitops "argo" is not a GitOps tool this bundle knows. Use "argocd", "flux", or "none" (kubectl apply, or any other tool).',
  ],
  [
    'injection asked for in kube-system',
    { injectPullSecret: true, targetNamespaces: ['team-*', 'kube-system'] },
    '--target-namespaces "kube-system" with --inject-pull-secret: the policy never changes Pods in kube-system or the updater\'s namespace ("ecr-updater"), so they would not get the secret. Name their ServiceAccounts in --patch-service-accounts instead (the Secret is still written there), or drop "kube-system".',
  ],
  [
    "injection asked for in the updater's namespace",
    { injectPullSecret: true, namespace: 'platform-ecr', targetNamespaces: ['platform-ecr'] },
    '--target-namespaces "platform-ecr" with --inject-pull-secret: the policy never changes Pods in kube-system or the updater\'s namespace ("platform-ecr"), so they would not get the secret. Name their ServiceAccounts in --patch-service-accounts instead (the Secret is still written there), or drop "platform-ecr".',
  ],
];
