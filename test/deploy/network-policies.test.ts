import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';

/**
 * infra/k8s's trust boundaries, without a cluster (issue 10 point 5): the NetworkPolicies are
 * evaluated as Kubernetes does (a pod selected by a policy of a direction is isolated in it; a
 * connection needs the source's egress and the destination's ingress), between every pair of the
 * IdP's pods and the outside parties on every port they use, and must allow exactly the needed
 * paths. Each service's Secret holds exactly the credentials it reads, and no ConfigMap holds a
 * password. Every check also runs against a broken copy, so it can fail.
 */
const HERE = dirname(fileURLToPath(import.meta.url));
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json + tsconfig.json above ${start}`);
  }
}
const K8S = join(findRepoRoot(HERE), 'infra/k8s');

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const dict = (v: unknown): Dict => (isDict(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const labelsOf = (v: unknown): Record<string, string> => dict(v) as Record<string, string>;

interface K8sObject {
  kind: string;
  name: string;
  body: Dict;
}

const objects: K8sObject[] = readdirSync(K8S)
  .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(K8S, f), 'utf8'))
      .map((d) => d.toJS() as unknown)
      .filter(isDict)
      .map((body) => ({ kind: String(body.kind), name: String(dict(body.metadata).name), body })),
  );
const policies = objects.filter((o) => o.kind === 'NetworkPolicy');

// ------------------------------------------------------------------------------------------
// Who is on the network
// ------------------------------------------------------------------------------------------

/** A pod (its namespace's and its own labels) or an address outside the cluster. */
type Party = { kind: 'pod'; namespace: string; labels: Record<string, string> } | { kind: 'external'; ip: string };

const SERVICES = ['gateway', 'authn', 'client-registry', 'token-issuer'] as const;
const BACKENDS = ['authn', 'client-registry', 'token-issuer'] as const;

function podLabels(kind: string, component?: string): Record<string, string> {
  const workload = objects.find(
    (o) => o.kind === kind && (component === undefined || dict(dict(dict(o.body.spec).template).metadata).labels && labelsOf(dict(dict(dict(o.body.spec).template).metadata).labels)['app.kubernetes.io/component'] === component),
  );
  if (!workload) throw new Error(`no ${kind} ${component ?? ''}`);
  return labelsOf(dict(dict(dict(workload.body.spec).template).metadata).labels);
}

const PARTIES: Record<string, Party> = {
  ...Object.fromEntries(SERVICES.map((s) => [s, { kind: 'pod', namespace: 'idp', labels: podLabels('Deployment', s) } as Party])),
  nats: { kind: 'pod', namespace: 'idp', labels: podLabels('StatefulSet') },
  'ingress controller': { kind: 'pod', namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
  'another pod of the cluster': { kind: 'pod', namespace: 'default', labels: { app: 'curious' } },
  redis: { kind: 'pod', namespace: 'redis', labels: { 'app.kubernetes.io/name': 'redis' } },
  dns: { kind: 'pod', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
  'a relying party on the internet': { kind: 'external', ip: '203.0.113.10' },
  'cloud metadata': { kind: 'external', ip: '169.254.169.254' },
  'a private address': { kind: 'external', ip: '10.1.2.3' },
};

/** The ports anything here listens on: HTTP, NATS client/cluster/monitoring, Redis, HTTPS, health, DNS. */
const PORTS: Array<{ protocol: 'TCP' | 'UDP'; port: number }> = [
  ...[3000, 4222, 6222, 8222, 6379, 443, 80, 9464, 53].map((port) => ({ protocol: 'TCP' as const, port })),
  { protocol: 'UDP', port: 53 },
];

/** Exactly the paths the IdP needs (issue 10 point 5), as "from -> to:port/protocol". */
const NEEDED = new Set([
  'ingress controller -> gateway:3000/TCP',
  'gateway -> nats:4222/TCP',
  ...BACKENDS.flatMap((b) => [`${b} -> nats:4222/TCP`, `${b} -> redis:6379/TCP`]),
  'token-issuer -> a relying party on the internet:443/TCP',
  'nats -> nats:6222/TCP',
  ...[...SERVICES, 'nats'].flatMap((p) => [`${p} -> dns:53/UDP`, `${p} -> dns:53/TCP`]),
]);

// ------------------------------------------------------------------------------------------
// NetworkPolicy semantics (networking.k8s.io/v1)
// ------------------------------------------------------------------------------------------

function selects(selector: unknown, labels: Record<string, string>): boolean {
  const s = dict(selector);
  const matchLabels = Object.entries(labelsOf(s.matchLabels));
  const expressions = list(s.matchExpressions).map(dict);
  return (
    matchLabels.every(([k, v]) => labels[k] === v) &&
    expressions.every((e) => {
      const key = String(e.key);
      const values = list(e.values).map(String);
      switch (e.operator) {
        case 'In':
          return key in labels && values.includes(labels[key]!);
        case 'NotIn':
          return !(key in labels) || !values.includes(labels[key]!);
        case 'Exists':
          return key in labels;
        case 'DoesNotExist':
          return !(key in labels);
        default:
          throw new Error(`unknown selector operator ${String(e.operator)}`);
      }
    })
  );
}

function ipv4InCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  if (base.includes(':') || ip.includes(':')) return false;
  const toInt = (a: string) => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(base) & mask) >>> 0);
}

/** Whether `peer` (a from/to entry of a policy in namespace idp) matches `party`. */
function peerMatches(peer: Dict, party: Party, policyNamespace: string): boolean {
  if (isDict(peer.ipBlock)) {
    if (party.kind !== 'external') return false; // pod addresses are private, and every block here excludes them
    const block = peer.ipBlock;
    return ipv4InCidr(party.ip, String(block.cidr)) && !list(block.except).some((e) => ipv4InCidr(party.ip, String(e)));
  }
  if (party.kind !== 'pod') return false;
  const namespaceOk = isDict(peer.namespaceSelector)
    ? selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': party.namespace })
    : party.namespace === policyNamespace;
  const podOk = isDict(peer.podSelector) ? selects(peer.podSelector, party.labels) : true;
  return namespaceOk && podOk;
}

function portMatches(ports: unknown, port: { protocol: string; port: number }): boolean {
  const entries = list(ports).map(dict);
  return entries.length === 0 || entries.some((p) => (p.protocol ?? 'TCP') === port.protocol && Number(p.port) === port.port);
}

/** Whether the policies let `from` open a connection to `to` on `port`. */
function allowed(all: K8sObject[], from: Party, to: Party, port: { protocol: string; port: number }): boolean {
  const direction = (party: Party, type: 'Ingress' | 'Egress', peer: Party): boolean => {
    if (party.kind !== 'pod' || party.namespace !== 'idp') return true; // not ours to restrict here
    const relevant = all.filter((p) => {
      const spec = dict(p.body.spec);
      return selects(spec.podSelector, party.labels) && list(spec.policyTypes).includes(type);
    });
    if (relevant.length === 0) return true;
    const key = type === 'Ingress' ? 'ingress' : 'egress';
    const peerKey = type === 'Ingress' ? 'from' : 'to';
    return relevant.some((p) =>
      list(dict(p.body.spec)[key])
        .map(dict)
        .some((rule) => {
          const peers = list(rule[peerKey]).map(dict);
          return (peers.length === 0 || peers.some((x) => peerMatches(x, peer, 'idp'))) && portMatches(rule.ports, port);
        }),
    );
  };
  return direction(from, 'Egress', to) && direction(to, 'Ingress', from);
}

function allowedPaths(all: K8sObject[]): Set<string> {
  const paths = new Set<string>();
  for (const [fromName, from] of Object.entries(PARTIES)) {
    for (const [toName, to] of Object.entries(PARTIES)) {
      // Only connections that touch the IdP's namespace are this file's business.
      const ours = (p: Party) => p.kind === 'pod' && p.namespace === 'idp';
      if (!ours(from) && !ours(to)) continue;
      for (const port of PORTS) if (allowed(all, from, to, port)) paths.add(`${fromName} -> ${toName}:${port.port}/${port.protocol}`);
    }
  }
  return paths;
}

// ------------------------------------------------------------------------------------------
// Secrets per service
// ------------------------------------------------------------------------------------------

/** What each service reads from a Secret: exactly these, from its own Secret `idp-<service>`. */
const CREDENTIALS: Record<(typeof SERVICES)[number], string[]> = {
  gateway: ['IDP_KEK', 'IDP_NATS_SEED', 'IDP_INITIAL_ACCESS_TOKEN'],
  authn: ['IDP_KEK', 'IDP_NATS_SEED', 'IDP_REDIS_PASSWORD'],
  'client-registry': ['IDP_NATS_SEED', 'IDP_REDIS_PASSWORD'],
  'token-issuer': ['IDP_KEK', 'IDP_NATS_SEED', 'IDP_REDIS_PASSWORD'],
};

function secretProblems(all: K8sObject[], service: (typeof SERVICES)[number]): string[] {
  const problems: string[] = [];
  const deployment = all.find(
    (o) => o.kind === 'Deployment' && labelsOf(dict(dict(dict(o.body.spec).template).metadata).labels)['app.kubernetes.io/component'] === service,
  );
  const container = dict(list(dict(dict(dict(deployment?.body.spec).template).spec).containers)[0]);
  const refs = list(container.env)
    .map(dict)
    .filter((e) => isDict(dict(e.valueFrom).secretKeyRef))
    .map((e) => ({ name: String(e.name), ref: dict(dict(e.valueFrom).secretKeyRef) }));
  if (list(container.envFrom).some((e) => isDict(dict(e).secretRef))) problems.push(`${service}: takes a whole Secret (envFrom), not the keys it needs`);
  const names = refs.map((r) => r.name).sort();
  if (JSON.stringify(names) !== JSON.stringify([...CREDENTIALS[service]].sort())) problems.push(`${service}: reads ${names.join(', ')} from Secrets, expected ${CREDENTIALS[service].join(', ')}`);
  for (const { name, ref } of refs) {
    if (ref.name !== `idp-${service}`) problems.push(`${service}: ${name} comes from Secret ${String(ref.name)}, not its own idp-${service}`);
    const secret = all.find((o) => o.kind === 'Secret' && o.name === ref.name);
    const data = { ...dict(secret?.body.data), ...dict(secret?.body.stringData) };
    if (!secret) problems.push(`${service}: Secret ${String(ref.name)} does not exist`);
    else if (!(String(ref.key) in data)) problems.push(`${service}: Secret ${String(ref.name)} has no key ${String(ref.key)}`);
  }
  const own = all.find((o) => o.kind === 'Secret' && o.name === `idp-${service}`);
  const extra = Object.keys({ ...dict(own?.body.data), ...dict(own?.body.stringData) }).filter((k) => !CREDENTIALS[service].includes(k));
  if (extra.length > 0) problems.push(`${service}: its Secret also holds ${extra.join(', ')}, which it does not read`);
  return problems;
}

/** A value that looks like a password or key material, in a ConfigMap (readable by whoever reads configuration). */
function configMapPasswordProblems(all: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const map of all.filter((o) => o.kind === 'ConfigMap')) {
    for (const [key, value] of Object.entries(dict(map.body.data))) {
      const text = String(value);
      if (/^SU[A-Z2-7]{50,}/m.test(text) || /\bSU[A-Z2-7]{56}\b/.test(text)) problems.push(`ConfigMap ${map.name}.${key} holds an NKey seed`);
      if (/\b(password|pass|requirepass)\b\s*[:=]\s*["']?[^\s"'$#{]/i.test(text)) problems.push(`ConfigMap ${map.name}.${key} holds a plaintext password`);
      if (/^\s*user\s+\S+.*\s>[^\s]/m.test(text)) problems.push(`ConfigMap ${map.name}.${key} holds a Redis ACL user with a plaintext password`);
      if (/:\/\/[^/\s:@]*:[^/\s@]+@/.test(text)) problems.push(`ConfigMap ${map.name}.${key} carries credentials in a URL`);
    }
  }
  return problems;
}

// ==========================================================================================

describe('infra/k8s NetworkPolicies', () => {
  test('every policy is a valid networking.k8s.io/v1 NetworkPolicy in namespace idp', () => {
    expect(policies.length).toBeGreaterThan(0);
    for (const policy of policies) {
      expect(() => new NetworkPolicy(policy.body as never).validate()).not.toThrow();
      expect([policy.name, dict(policy.body.metadata).namespace]).toEqual([policy.name, 'idp']);
    }
  });

  test('everything in the namespace is denied both ways by default', () => {
    const denyAll = policies.filter((p) => {
      const spec = dict(p.body.spec);
      return Object.keys(dict(spec.podSelector)).length === 0 && list(spec.policyTypes).includes('Ingress') && list(spec.policyTypes).includes('Egress') && spec.ingress === undefined && spec.egress === undefined;
    });
    expect(denyAll.map((p) => p.name)).toEqual(['default-deny']);
  });

  test('exactly the needed paths are open: ingress -> gateway, gateway -> NATS, backends -> NATS and Redis, token-issuer -> the internet on 443, NATS routes, DNS', () => {
    const paths = allowedPaths(objects);
    expect([...paths].filter((p) => !NEEDED.has(p)).sort()).toEqual([]);
    expect([...NEEDED].filter((p) => !paths.has(p)).sort()).toEqual([]);
  });

  test('the evaluation sees a missing default deny, a widened rule and a dropped path', () => {
    const without = (...names: string[]) => objects.filter((o) => o.kind !== 'NetworkPolicy' || !names.includes(o.name));
    // Without any policy selecting the gateway, it is reachable by anyone and may go anywhere.
    const open = allowedPaths(without('idp-gateway', 'default-deny', 'allow-dns'));
    expect(open).toContain('another pod of the cluster -> gateway:3000/TCP');
    expect(open).toContain('gateway -> redis:6379/TCP');
    // The DNS policy alone already isolates every pod's egress.
    expect(allowedPaths(without('idp-gateway', 'default-deny'))).not.toContain('gateway -> redis:6379/TCP');
    // A backchannel rule without its private-range exceptions reaches the metadata service.
    const widened = objects.map((o) => {
      if (o.name !== 'idp-token-issuer-backchannel-logout') return o;
      const copy = structuredClone(o);
      for (const rule of list(dict(copy.body.spec).egress)) for (const peer of list(dict(rule).to)) delete dict(dict(peer).ipBlock).except;
      return copy;
    });
    expect(allowedPaths(widened)).toContain('token-issuer -> cloud metadata:443/TCP');
    // Without the NATS policy the default deny closes the bus to everyone; without both, it is open to all.
    expect(allowedPaths(without('nats'))).not.toContain('gateway -> nats:4222/TCP');
    expect(allowedPaths(without('nats', 'default-deny'))).toContain('another pod of the cluster -> nats:4222/TCP');
    expect(allowedPaths(without('idp-backends'))).not.toContain('authn -> redis:6379/TCP');
  });
});

describe('infra/k8s Secrets and ConfigMaps', () => {
  test.each(SERVICES)("%s reads exactly its credentials, each from its own Secret, which holds nothing else", (service) => {
    expect(secretProblems(objects, service)).toEqual([]);
  });

  test('a service reading another service\'s Secret, or a Secret missing a key, is seen', () => {
    const swapped = objects.map((o) => {
      if (o.kind !== 'Deployment' || !o.name.endsWith('client-registry')) return o;
      const copy = structuredClone(o);
      const container = dict(list(dict(dict(dict(copy.body.spec).template).spec).containers)[0]);
      container.env = [
        ...list(container.env),
        { name: 'IDP_KEK', valueFrom: { secretKeyRef: { name: 'idp-authn', key: 'IDP_KEK' } } },
      ];
      return copy;
    });
    expect(secretProblems(swapped, 'client-registry')).toEqual(
      expect.arrayContaining([expect.stringMatching(/reads IDP_KEK, IDP_NATS_SEED, IDP_REDIS_PASSWORD/), expect.stringMatching(/not its own idp-client-registry/)]),
    );
    const keyless = objects.map((o) => {
      if (o.kind !== 'Secret' || o.name !== 'idp-authn') return o;
      const copy = structuredClone(o);
      delete dict(copy.body.stringData).IDP_REDIS_PASSWORD;
      return copy;
    });
    expect(secretProblems(keyless, 'authn')).toContainEqual(expect.stringMatching(/has no key IDP_REDIS_PASSWORD/));
  });

  test('no ConfigMap holds a plaintext password, a seed or credentials in a URL', () => {
    expect(objects.filter((o) => o.kind === 'ConfigMap').length).toBeGreaterThan(0);
    expect(configMapPasswordProblems(objects)).toEqual([]);
    const leaky = (text: string): K8sObject => ({ kind: 'ConfigMap', name: 'leaky', body: { data: { file: text } } });
    expect(configMapPasswordProblems([leaky('user authn on >hunter2 ~* +@all')])).toHaveLength(1);
    expect(configMapPasswordProblems([leaky('authorization { users: [{ user: a, password: hunter2 }] }')])).toHaveLength(1);
    expect(configMapPasswordProblems([leaky(`seed: SU${'A'.repeat(56)}`)])).toHaveLength(1);
    expect(configMapPasswordProblems([leaky('redis://authn:hunter2@redis:6379')])).toHaveLength(1);
  });
});
