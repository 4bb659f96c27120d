import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parseDocument } from 'yaml';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';

/**
 * The NATS JetStream cluster that holds the log in Kubernetes (infra/k8s/nats.yaml) and the
 * single NATS of docker-compose.yml: the durability the README promises rests on these files, so
 * they are checked here without a cluster (deployment-files.test.ts covers the IdP's own objects
 * and validates every manifest file against the Kubernetes schemas).
 *
 * Promised: three servers, one per node, each with its own volume; JetStream fsyncing every write
 * (`sync_interval: always`); the log stream asked for with 3 replicas; at most one server taken
 * down voluntarily; and one pinned NATS version, the same in compose and Kubernetes, no older
 * than the first release without the clustered expected-sequence bugs. Every rule is a pure
 * function returning problems and runs against a broken copy too, so it can fail.
 */

// ------------------------------------------------------------------------------------------
// Files
// ------------------------------------------------------------------------------------------

/** The repository root: the nearest ancestor holding package.json and tsconfig.json. */
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json + tsconfig.json above ${start}`);
  }
}
const ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/**
 * The oldest NATS this deployment may run. nats-server#4320 (concurrent publishes with the same
 * Nats-Expected-Last-Subject-Sequence both accepted by a clustered stream) was fixed in 2.9.21;
 * #5644 (an expectation of 0 not checked by the leader, so replicas could store the message
 * differently and diverge; fix #5794) in 2.10.19 and 2.11.0. The 2.10 line never got #6194 and
 * #6485 (2.11.0: the leader refuses expectations while its log is not applied or the subject has
 * a write in flight, so a leader change cannot make replicas diverge), hence 2.11.0.
 */
const MIN_NATS_VERSION = [2, 11, 0] as const;
const REPLICAS = 3;

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    current = typeof key === 'number' ? (Array.isArray(current) ? current[key] : undefined) : isDict(current) ? current[key] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
}
const clone = <T>(value: T): T => structuredClone(value);

function loadDocuments(path: string): Dict[] {
  return parseAllDocuments(read(path)).map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.map((e) => e.message).join('; ')}`);
    return document.toJS() as Dict;
  });
}

const matches = (selector: unknown, labels: unknown) => {
  const wanted = Object.entries(isDict(selector) ? selector : {});
  return wanted.length > 0 && wanted.every(([k, v]) => isDict(labels) && labels[k] === v);
};

// ------------------------------------------------------------------------------------------
// nats.conf (the subset used here: `key: value`, `name { ... }` blocks, `[ ... ]` lists, # comments)
// ------------------------------------------------------------------------------------------

const uncomment = (conf: string) => conf.replace(/#.*$/gm, '');

/** The text inside `name { ... }` (top level of `conf`), or undefined. */
function confBlock(conf: string, name: string): string | undefined {
  const start = new RegExp(`^\\s*${name}\\s*[:=]?\\s*\\{`, 'm').exec(uncomment(conf));
  if (start === null) return undefined;
  const text = uncomment(conf);
  let depth = 0;
  for (let i = start.index + start[0].length - 1; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return text.slice(start.index + start[0].length, i);
  }
  return undefined;
}

/** `key: value` at the top level of `conf` (nested blocks ignored). */
function confValue(conf: string, key: string): string | undefined {
  let flat = uncomment(conf);
  for (let previous = ''; previous !== flat; ) [previous, flat] = [flat, flat.replace(/\{[^{}]*\}/g, '')];
  return new RegExp(`^\\s*${key}\\s*[:=]\\s*(\\S+)\\s*$`, 'm').exec(flat)?.[1];
}

// ------------------------------------------------------------------------------------------
// Checks
// ------------------------------------------------------------------------------------------

/** `nats:2.12.15-alpine` -> [2, 12, 15]; anything but an exact version -> undefined. */
function natsVersion(image: string | undefined): [number, number, number] | undefined {
  const match = /^nats:(\d+)\.(\d+)\.(\d+)-alpine$/.exec(image ?? '');
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function olderThan(version: readonly number[], than: readonly number[]): boolean {
  const i = version.findIndex((n, k) => n !== than[k]);
  return i !== -1 && (version[i] as number) < (than[i] as number);
}

/** The value after the first of `flags` in a command line, if any. */
function flagValue(args: string[], ...flags: string[]): string | undefined {
  const i = args.findIndex((a) => flags.includes(a));
  return i === -1 ? undefined : args[i + 1];
}

function checkNatsVersions(composeImage: string | undefined, k8sImage: string | undefined): string[] {
  const problems: string[] = [];
  for (const [where, image] of [['docker-compose.yml', composeImage], ['infra/k8s', k8sImage]] as const) {
    const version = natsVersion(image);
    if (version === undefined) problems.push(`${where}: NATS image ${image} is not pinned to an exact nats:<x.y.z>-alpine`);
    else if (olderThan(version, MIN_NATS_VERSION)) {
      problems.push(`${where}: NATS ${version.join('.')} is older than ${MIN_NATS_VERSION.join('.')} (clustered expected-sequence fixes)`);
    }
  }
  if (composeImage !== k8sImage) problems.push(`docker-compose.yml runs ${composeImage}, infra/k8s runs ${k8sImage}: pin one version`);
  return problems;
}

interface NatsObjects {
  statefulSet: Dict | undefined;
  services: Dict[];
  configMaps: Dict[];
  pdbs: Dict[];
}

function natsObjects(documents: Dict[]): NatsObjects {
  return {
    statefulSet: documents.find((d) => d.kind === 'StatefulSet'),
    services: documents.filter((d) => d.kind === 'Service'),
    configMaps: documents.filter((d) => d.kind === 'ConfigMap'),
    pdbs: documents.filter((d) => d.kind === 'PodDisruptionBudget'),
  };
}

/** The StatefulSet, its Services, nats.conf and PDB: a JetStream cluster of three that fsyncs every write. */
function checkNatsCluster({ statefulSet, services, configMaps, pdbs }: NatsObjects): string[] {
  if (statefulSet === undefined) return ['no StatefulSet'];
  const problems: string[] = [];
  const spec = at(statefulSet, 'spec');
  const podLabels = at(spec, 'template', 'metadata', 'labels');
  const pod = at(spec, 'template', 'spec');
  const container = list(at(pod, 'containers')).find((c) => at(c, 'name') === 'nats');
  if (at(spec, 'replicas') !== REPLICAS) problems.push(`StatefulSet replicas ${str(at(spec, 'replicas'))}, expected ${REPLICAS}`);
  if (!matches(at(spec, 'selector', 'matchLabels'), podLabels)) problems.push('StatefulSet selector does not match its pod labels');
  if (container === undefined) return [...problems, 'no container named nats'];
  const ports = new Map(list(at(container, 'ports')).map((p) => [str(at(p, 'name')), at(p, 'containerPort')]));

  // Stable server names: the pod name, through the environment, into server_name.
  const podName = list(at(container, 'env')).find((e) => at(e, 'valueFrom', 'fieldRef', 'fieldPath') === 'metadata.name');
  const configPath = flagValue(list(at(container, 'command')).map((a) => str(a) ?? ''), '--config', '-c') ?? '';
  const configMount = list(at(container, 'volumeMounts')).find((m) => configPath === `${str(at(m, 'mountPath'))}/${configPath.split('/').pop()}`);
  const configVolume = list(at(pod, 'volumes')).find((v) => at(v, 'name') === at(configMount, 'name'));
  const configMap = configMaps.find((c) => at(c, 'metadata', 'name') === at(configVolume, 'configMap', 'name'));
  const conf = str(at(configMap, 'data', configPath.split('/').pop() ?? ''));
  if (conf === undefined) return [...problems, `nats.conf: the command ${JSON.stringify(at(container, 'command'))} does not read a mounted ConfigMap key`];
  if (podName === undefined || confValue(conf, 'server_name') !== `$${str(at(podName, 'name'))}`) problems.push('server_name is not the pod name');

  // JetStream on this pod's own volume, fsynced at every write.
  const jetstream = confBlock(conf, 'jetstream');
  if (jetstream === undefined) problems.push('JetStream is not enabled (no jetstream block)');
  else {
    const storeDir = confValue(jetstream, 'store_dir');
    const claims = list(at(spec, 'volumeClaimTemplates')).map((t) => at(t, 'metadata', 'name'));
    const storeMount = list(at(container, 'volumeMounts')).find((m) => at(m, 'mountPath') === storeDir);
    if (storeMount === undefined || !claims.includes(at(storeMount, 'name'))) problems.push(`store_dir ${storeDir} is not on a volumeClaimTemplate`);
    if (confValue(jetstream, 'sync_interval') !== 'always') problems.push('JetStream does not fsync every write (sync_interval: always)');
  }

  // Routes to every server through the headless Service that gives them stable names.
  const headless = services.find((s) => at(s, 'metadata', 'name') === at(spec, 'serviceName'));
  if (headless === undefined) problems.push(`serviceName ${str(at(spec, 'serviceName'))} is not a Service here`);
  else {
    if (at(headless, 'spec', 'clusterIP') !== 'None') problems.push('the StatefulSet Service is not headless');
    if (at(headless, 'spec', 'publishNotReadyAddresses') !== true) problems.push('the headless Service hides unready pods, whose routes are needed to become ready');
    if (!matches(at(headless, 'spec', 'selector'), podLabels)) problems.push('the headless Service does not select the NATS pods');
  }
  const cluster = confBlock(conf, 'cluster');
  const routes = [...(cluster ?? '').matchAll(/nats(?:-route)?:\/\/([^\s,\]]+)/g)].map((m) => m[1]).sort();
  const expectedRoutes = Array.from({ length: REPLICAS }, (_, i) => `${str(at(statefulSet, 'metadata', 'name'))}-${i}.${str(at(spec, 'serviceName'))}:${confValue(cluster ?? '', 'port')}`);
  if (JSON.stringify(routes) !== JSON.stringify(expectedRoutes)) problems.push(`cluster routes ${JSON.stringify(routes)}, expected ${JSON.stringify(expectedRoutes)}`);
  if (ports.get('cluster') !== Number(confValue(cluster ?? '', 'port'))) problems.push('the container does not expose the cluster port');

  // A client Service on 4222 selecting the servers.
  const clients = services.filter((s) => at(s, 'spec', 'clusterIP') !== 'None' && matches(at(s, 'spec', 'selector'), podLabels));
  if (!clients.some((s) => list(at(s, 'spec', 'ports')).some((p) => at(p, 'port') === 4222 && ports.get(str(at(p, 'targetPort'))) === 4222))) {
    problems.push('no client Service maps 4222 to the NATS pods');
  }

  // One server per node, and never more than one taken down on purpose.
  const antiAffinity = list(at(pod, 'affinity', 'podAntiAffinity', 'requiredDuringSchedulingIgnoredDuringExecution'));
  if (!antiAffinity.some((a) => at(a, 'topologyKey') === 'kubernetes.io/hostname' && matches(at(a, 'labelSelector', 'matchLabels'), podLabels))) {
    problems.push('servers may share a node: no required podAntiAffinity on kubernetes.io/hostname');
  }
  const budget = pdbs.filter((p) => matches(at(p, 'spec', 'selector', 'matchLabels'), podLabels));
  if (budget.length !== 1 || at(budget[0], 'spec', 'maxUnavailable') !== 1) problems.push('no PodDisruptionBudget with maxUnavailable 1 selects the NATS pods');

  // The namespace enforces the restricted Pod Security Standard.
  if (at(pod, 'securityContext', 'runAsNonRoot') !== true) problems.push('runAsNonRoot is not true');
  if (at(pod, 'securityContext', 'seccompProfile', 'type') !== 'RuntimeDefault') problems.push('no RuntimeDefault seccomp profile');
  if (at(container, 'securityContext', 'allowPrivilegeEscalation') !== false) problems.push('allowPrivilegeEscalation is not false');
  if (!list(at(container, 'securityContext', 'capabilities', 'drop')).includes('ALL')) problems.push('capabilities are not all dropped');
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    const get = at(container, probe, 'httpGet');
    if (!String(str(at(get, 'path'))).startsWith('/healthz') || ports.get(str(at(get, 'port'))) !== Number(confValue(conf, 'http_port'))) {
      problems.push(`${probe} does not ask /healthz on the monitoring port`);
    }
  }
  return problems;
}

/** The services' EVENT_STORE_URL asks for the replicas the cluster has, at its client Service. */
function checkEventStoreUrl(config: Dict | undefined, clientService: Dict | undefined): string[] {
  const host = `${str(at(clientService, 'metadata', 'name'))}.${str(at(clientService, 'metadata', 'namespace'))}.svc.cluster.local:4222`;
  const problems: string[] = [];
  const url = str(at(config, 'data', 'EVENT_STORE_URL')) ?? '';
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.protocol !== 'nats:' || parsed.host !== host) problems.push(`EVENT_STORE_URL ${url} is not JetStream at ${host}`);
  if (parsed?.searchParams.get('replicas') !== String(REPLICAS)) problems.push(`EVENT_STORE_URL ${url} does not ask for replicas=${REPLICAS}`);
  if (str(at(config, 'data', 'BUS_URL')) !== `nats://${host}`) problems.push(`BUS_URL is not nats://${host}`);
  // The data keys seal personal claims in the log's events: as many replicas as the log.
  if (str(at(config, 'data', 'IDP_DATA_KEYS_URL')) !== `nats://${host}?replicas=${REPLICAS}`) {
    problems.push(`IDP_DATA_KEYS_URL is not nats://${host}?replicas=${REPLICAS}`);
  }
  return problems;
}

/** Compose's single NATS reads a config that fsyncs every write. */
function checkComposeNats(compose: Dict): string[] {
  const nats = at(compose, 'services', 'nats');
  const args = list(at(nats, 'command')).map((a) => str(a) ?? '');
  const file = flagValue(args, '-c', '--config');
  const mounted = list(at(nats, 'configs')).find((c) => at(c, 'target') === file);
  const content = str(at(compose, 'configs', str(at(mounted, 'source')) ?? '', 'content'));
  if (file === undefined || content === undefined) return [`nats reads no config from the compose file's configs (command ${JSON.stringify(args)})`];
  return confValue(confBlock(content, 'jetstream') ?? '', 'sync_interval') === 'always' ? [] : ['nats does not fsync every write (sync_interval: always)'];
}

// ==========================================================================================
// The tests
// ==========================================================================================

describe('NATS JetStream cluster (infra/k8s/nats.yaml) and compose NATS', () => {
  const documents = loadDocuments('infra/k8s/nats.yaml');
  const objects = natsObjects(documents);
  const idpConfig = loadDocuments('infra/k8s/configmap.yaml').find((d) => isDict(d.data) && 'EVENT_STORE_URL' in d.data);
  const clientService = objects.services.find((s) => at(s, 'spec', 'clusterIP') !== 'None');
  const composeDocument = parseDocument(read('docker-compose.yml'), { merge: true });
  const compose = composeDocument.toJS() as Dict;
  const k8sImage = str(at(objects.statefulSet, 'spec', 'template', 'spec', 'containers', 0, 'image'));
  const composeImage = str(at(compose, 'services', 'nats', 'image'));

  test('every object is valid against its Kubernetes schema', () => {
    const models: Record<string, { new (data: never): { validate(): void } }> = { StatefulSet, Service, ConfigMap, PodDisruptionBudget };
    expect(documents.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'PodDisruptionBudget', 'Service', 'Service', 'StatefulSet']);
    for (const document of documents) {
      const Model = models[String(document.kind)];
      expect(Model).toBeDefined();
      expect(() => new (Model as NonNullable<typeof Model>)(document as never).validate()).not.toThrow();
    }
    const noClaimSpec = clone(objects.statefulSet) as Dict;
    delete (at(noClaimSpec, 'spec', 'volumeClaimTemplates', 0) as Dict).spec;
    (at(noClaimSpec, 'spec') as Dict).replicas = 'three';
    expect(() => new StatefulSet(noClaimSpec as never).validate()).toThrow(/integer/);
  });

  test('three servers, one per node, JetStream on a volume each with sync_interval: always, routes to all, PDB maxUnavailable 1', () => {
    expect(checkNatsCluster(objects)).toEqual([]);
    expect(at(objects.statefulSet, 'spec', 'replicas')).toBe(3);
  });

  test('one pinned NATS version, equal in compose and Kubernetes, with the clustered expected-sequence fixes', () => {
    expect(checkNatsVersions(composeImage, k8sImage)).toEqual([]);
    expect(composeImage).toBe(k8sImage);
    expect(natsVersion(k8sImage)).toEqual([2, 12, 15]);
  });

  test('the services log to that cluster with replicas=3; compose NATS fsyncs every write', () => {
    expect(checkEventStoreUrl(idpConfig, clientService)).toEqual([]);
    expect(checkComposeNats(compose)).toEqual([]);
  });

  test('the checks fail on broken copies', () => {
    const broken = (mutate: (o: NatsObjects) => void) => {
      const copy = clone(objects);
      mutate(copy);
      return checkNatsCluster(copy);
    };
    const container = (o: NatsObjects) => at(o.statefulSet, 'spec', 'template', 'spec', 'containers', 0) as Dict;
    const conf = (o: NatsObjects, edit: (text: string) => string) => {
      const data = at(o.configMaps[0], 'data') as Dict;
      data['nats.conf'] = edit(String(data['nats.conf']));
    };
    expect(broken((o) => ((at(o.statefulSet, 'spec') as Dict).replicas = 1))).toContainEqual('StatefulSet replicas 1, expected 3');
    expect(broken((o) => conf(o, (t) => t.replace(/sync_interval: always/, 'sync_interval: 2m')))).toContainEqual(expect.stringMatching(/does not fsync/));
    expect(broken((o) => conf(o, (t) => t.replace(/jetstream \{/, 'jetstream_off {')))).toContainEqual('JetStream is not enabled (no jetstream block)');
    expect(broken((o) => conf(o, (t) => t.replace('store_dir: /data', 'store_dir: /tmp')))).toContainEqual(expect.stringMatching(/not on a volumeClaimTemplate/));
    expect(broken((o) => conf(o, (t) => t.replace(/\s*nats:\/\/nats-2\.nats-headless:6222/, '')))).toContainEqual(expect.stringMatching(/^cluster routes/));
    expect(broken((o) => conf(o, (t) => t.replace('$POD_NAME', 'nats')))).toContainEqual('server_name is not the pod name');
    expect(broken((o) => delete (at(o.statefulSet, 'spec', 'template', 'spec') as Dict).affinity)).toContainEqual(expect.stringMatching(/may share a node/));
    expect(broken((o) => ((at(o.pdbs[0], 'spec') as Dict).maxUnavailable = 2))).toContainEqual(expect.stringMatching(/maxUnavailable 1/));
    expect(broken((o) => (o.pdbs = []))).toContainEqual(expect.stringMatching(/PodDisruptionBudget/));
    expect(broken((o) => delete (at(o.services.find((s) => at(s, 'spec', 'clusterIP') === 'None'), 'spec') as Dict).publishNotReadyAddresses)).toContainEqual(
      expect.stringMatching(/hides unready pods/),
    );
    expect(broken((o) => (o.services = o.services.filter((s) => at(s, 'spec', 'clusterIP') === 'None')))).toContainEqual('no client Service maps 4222 to the NATS pods');
    expect(broken((o) => ((container(o).securityContext as Dict).allowPrivilegeEscalation = true))).toContainEqual('allowPrivilegeEscalation is not false');
    expect(broken((o) => ((at(container(o), 'readinessProbe', 'httpGet') as Dict).port = 'client'))).toContainEqual(expect.stringMatching(/readinessProbe/));

    expect(checkNatsVersions('nats:2.10.29-alpine', 'nats:2.10.29-alpine')).toEqual([
      expect.stringMatching(/docker-compose.yml: NATS 2.10.29 is older than 2.11.0/),
      expect.stringMatching(/infra\/k8s: NATS 2.10.29 is older than 2.11.0/),
    ]);
    expect(checkNatsVersions('nats:2.12-alpine', k8sImage)).toEqual(
      expect.arrayContaining([expect.stringMatching(/not pinned/), expect.stringMatching(/pin one version/)]),
    );
    expect(checkNatsVersions('nats:3.0.0-alpine', 'nats:3.0.0-alpine')).toEqual([]);

    const config = clone(idpConfig) as Dict;
    (config.data as Dict).EVENT_STORE_URL = 'nats://nats.idp.svc.cluster.local:4222';
    expect(checkEventStoreUrl(config, clientService)).toEqual([expect.stringMatching(/does not ask for replicas=3/)]);
    (config.data as Dict).BUS_URL = 'nats://nats.nats.svc.cluster.local:4222';
    expect(checkEventStoreUrl(config, clientService)).toContainEqual(expect.stringMatching(/^BUS_URL is not/));
    (config.data as Dict).IDP_DATA_KEYS_URL = 'nats://nats.idp.svc.cluster.local:4222';
    expect(checkEventStoreUrl(config, clientService)).toContainEqual(expect.stringMatching(/^IDP_DATA_KEYS_URL is not .*replicas=3/));

    const withoutSync = clone(compose);
    (at(withoutSync, 'configs', 'nats-jetstream') as Dict).content = 'jetstream {\n}\n';
    expect(checkComposeNats(withoutSync)).toEqual(['nats does not fsync every write (sync_interval: always)']);
    (at(withoutSync, 'services', 'nats') as Dict).command = ['-js', '-sd', '/data'];
    expect(checkComposeNats(withoutSync)).toEqual([expect.stringMatching(/reads no config/)]);
  });
});
