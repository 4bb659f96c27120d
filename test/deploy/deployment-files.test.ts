import { createUser } from '@nats-io/nkeys';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parseDocument } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { ZodType } from 'zod';
import { loadEmbeddedConfig } from '../../services/embedded/config.js';
import { DataKeysEnv, IssuerUrl, KekEnv, ServiceEnv } from '../../services/shared/adapters/service-config.js';

/**
 * The deployment files (Dockerfile, .dockerignore, docker-compose.yml, infra/k8s/) checked
 * without Docker or a cluster: parsed, validated against the Kubernetes OpenAPI schemas, and
 * cross-checked against each other and against the source tree (DESIGN §8).
 *
 * Every rule is a pure function returning a list of problems (empty = fine); each one also
 * runs against a deliberately broken copy of the real file, so a check that can no longer fail
 * is itself a failing test.
 */

// ------------------------------------------------------------------------------------------
// Where things are
// ------------------------------------------------------------------------------------------

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The repository root: the nearest ancestor holding package.json and tsconfig.json. Compiled
 * into dist/test/deploy/ that is three levels up; into .build/<dir>/test/deploy/ four; run from
 * the sources, two. Neither dist/ nor .build/ holds a package.json.
 */
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json + tsconfig.json above ${start}`);
  }
}
const ROOT = findRepoRoot(HERE);
/** The compiler's output root this test runs from (rootDir is the repo root, so test/deploy/ is two below it). */
const OUT_ROOT = resolve(HERE, '../..');

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The four distributed services (DESIGN §3) and the all-in-one process. */
const SERVICES = ['gateway', 'authn', 'client-registry', 'token-issuer'] as const;
type ServiceName = (typeof SERVICES)[number];

/**
 * What each process is given. Every service's config (services/shared/adapters/service-config.ts)
 * requires IDP_KEK, client-registry's included; the token-issuer needs ISSUER for `iss`.
 */
const COMMON_ENV = ['EVENT_STORE_URL', 'BUS_URL', 'PROJECTIONS_URL', 'IDP_TENANT', 'LOG_LEVEL', 'HEALTH_PORT'];
const REQUIRED_ENV: Record<ServiceName, string[]> = {
  gateway: [...COMMON_ENV, 'IDP_KEK', 'PORT', 'HOST', 'ISSUER', 'IDP_INITIAL_ACCESS_TOKEN', 'IDP_REQUEST_TIMEOUT_MS'],
  authn: [...COMMON_ENV, 'IDP_KEK', 'IDP_DATA_KEYS_URL'],
  'client-registry': [...COMMON_ENV],
  'token-issuer': [...COMMON_ENV, 'IDP_KEK', 'ISSUER'],
};
/** What each service gets besides (a Deployment from its own Secret, compose from the env file): its NATS identity and Redis user. */
const K8S_CREDENTIALS: Record<ServiceName, string[]> = {
  gateway: ['IDP_NATS_SEED'],
  authn: ['IDP_NATS_SEED', 'IDP_REDIS_PASSWORD'],
  'client-registry': ['IDP_NATS_SEED', 'IDP_REDIS_PASSWORD'],
  'token-issuer': ['IDP_NATS_SEED', 'IDP_REDIS_PASSWORD'],
};
/** Least privilege: these services must not even receive the KEK. */
const NO_KEK: ServiceName[] = ['client-registry'];

/**
 * The services' own zod schemas, composed as each main.ts composes them, so the values in the
 * deployment files are checked by the parser that will read them. The gateway's schema lives in
 * its main.ts (not importable without starting it): the shared variables it reads stand in.
 */
const CONFIG_SCHEMAS: Record<ServiceName, ZodType> = {
  gateway: ServiceEnv.pick({ BUS_URL: true, IDP_TENANT: true, HEALTH_PORT: true, LOG_LEVEL: true }).extend(KekEnv.shape).extend({ ISSUER: IssuerUrl }),
  authn: ServiceEnv.extend(KekEnv.shape).extend(DataKeysEnv.shape),
  'client-registry': ServiceEnv,
  'token-issuer': ServiceEnv.extend(KekEnv.shape).extend({ ISSUER: IssuerUrl }),
};
/** Stand-ins for secrets the files only reference: a well-formed KEK and NKey seed, built here, never stored. */
const SECRET_STAND_INS: Record<string, string> = {
  IDP_KEK: Buffer.alloc(32, 7).toString('base64url'),
  IDP_INITIAL_ACCESS_TOKEN: 'stand-in-token',
  IDP_NATS_SEED: new TextDecoder().decode(createUser().getSeed()),
  IDP_REDIS_PASSWORD: 'stand-in-redis-password',
};

/** Problems the service's own config parser finds in an environment (secrets replaced by stand-ins). */
function checkConfigParses(name: ServiceName | 'embedded', env: Map<string, string>): string[] {
  const values: Record<string, string> = {};
  for (const [key, value] of env) values[key] = SECRET_STAND_INS[key] ?? value;
  if (name === 'embedded') {
    try {
      loadEmbeddedConfig(values);
      return [];
    } catch (error) {
      return [`${name}: ${(error as Error).message}`];
    }
  }
  const parsed = CONFIG_SCHEMAS[name].safeParse(values);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${name}: config ${i.path.join('.')}: ${i.message}`);
}

/** Variables holding secrets: never a literal in a committed file, never in a ConfigMap. */
const SECRET_ENV = ['IDP_KEK', 'IDP_INITIAL_ACCESS_TOKEN', 'IDP_NATS_SEED', 'IDP_REDIS_PASSWORD'];
const SECRETISH_NAME = /(KEK|SECRET|PASSWORD|TOKEN|PRIVATE|CREDENTIAL)/i;
const HEALTH_PORT = 9464;

// ------------------------------------------------------------------------------------------
// Walking parsed YAML (unknown all the way down)
// ------------------------------------------------------------------------------------------

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const dict = (v: unknown): Dict => (isDict(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

/** Follows keys and indexes; undefined as soon as one is missing. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') current = Array.isArray(current) ? current[key] : undefined;
    else current = isDict(current) ? current[key] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

const clone = <T>(value: T): T => structuredClone(value);

/** Every document of a YAML stream as plain JS; a syntax error or duplicate key throws. */
function loadYamlDocuments(source: string, name: string): unknown[] {
  const documents = parseAllDocuments(source);
  const out: unknown[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`${name}: ${document.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// Commands: `node dist/<path>.js` must be the compiled form of a TypeScript file in the repo
// ------------------------------------------------------------------------------------------

function commandArgs(command: unknown): string[] {
  if (typeof command === 'string') return command.trim().split(/\s+/);
  return list(command).map((part) => str(part) ?? '');
}

/** Problems with a command that should start `services/<name>/main`. */
function checkServiceCommand(command: unknown, name: string): string[] {
  const args = commandArgs(command);
  const expected = `dist/services/${name}/main.js`;
  if (args[0] !== 'node' || args[1] !== expected || args.length !== 2) {
    return [`command is ${JSON.stringify(args)}, expected ["node", "${expected}"]`];
  }
  const problems: string[] = [];
  const source = `services/${name}/main.ts`;
  if (!existsSync(join(ROOT, source))) problems.push(`${expected} is compiled from ${source}, which does not exist`);
  // Run from compiled output: the very file the command names must have been emitted.
  if (OUT_ROOT !== ROOT && !existsSync(join(OUT_ROOT, `services/${name}/main.js`))) {
    problems.push(`the build output ${join(OUT_ROOT, `services/${name}/main.js`)} does not exist`);
  }
  return problems;
}

// ------------------------------------------------------------------------------------------
// docker-compose.yml
// ------------------------------------------------------------------------------------------

function loadCompose(source: string): Dict {
  // Compose resolves YAML merge keys (`<<: *anchor`); so does this parse.
  const document = parseDocument(source, { merge: true });
  if (document.errors.length > 0) throw new Error(document.errors.map((e) => e.message).join('; '));
  return dict(document.toJS());
}

/** A service's environment as a map, from either the mapping or the `KEY=value` list form. */
function composeEnv(service: unknown): Map<string, string> {
  const env = at(service, 'environment');
  const out = new Map<string, string>();
  if (Array.isArray(env)) {
    for (const entry of env) {
      const [key = '', ...rest] = String(entry).split('=');
      out.set(key, rest.join('='));
    }
  } else {
    for (const [key, value] of Object.entries(dict(env))) out.set(key, value === null ? `\${${key}}` : (str(value) ?? ''));
  }
  return out;
}

/** `${NAME:-default}` -> default, `${NAME}` -> '', a literal -> itself: what runs with nothing set. */
function withDefaults(value: string): string {
  return value.replace(/\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (_, _name: string, op: string | undefined, rest: string | undefined) =>
    op?.endsWith('-') ? (rest ?? '') : '',
  );
}

/** Published ports as host -> container, from the short ("3000:3000", "127.0.0.1:3000:3000") or long form. */
function publishedPorts(service: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const port of list(at(service, 'ports'))) {
    if (isDict(port)) out.set(str(port.published) ?? '', str(port.target) ?? '');
    else {
      const parts = (str(port) ?? '').split('/')[0]?.split(':') ?? [];
      if (parts.length >= 2) out.set(parts[parts.length - 2] ?? '', parts[parts.length - 1] ?? '');
    }
  }
  return out;
}

/** Compose durations: 30s, 1m30s, 500ms. */
function durationSeconds(value: unknown): number {
  const text = str(value) ?? '';
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)) total += Number(amount) * (units[unit ?? 's'] ?? 0);
  return total;
}

/** The text of a healthcheck's test, whichever form (CMD list or shell string) it has. */
function healthcheckText(service: unknown): string | undefined {
  const test = at(service, 'healthcheck', 'test');
  if (at(service, 'healthcheck', 'disable') === true) return undefined;
  if (typeof test === 'string') return test;
  const parts = list(test).map((p) => str(p) ?? '');
  return parts.length === 0 || parts[0] === 'NONE' ? undefined : parts.join(' ');
}

/**
 * A secret env value must come from the environment / env file: `${NAME}`, `${NAME:?msg}` or
 * `${NAME:-}`, or, for a credential of one service (its NATS seed, its Redis password),
 * `${NAME_<SERVICE>...}` as `npm run deploy:emit` names it.
 */
function checkSecretValue(key: string, value: string, service?: string): string[] {
  const interpolation = /^\$\{(\w+)(?:(:?[?])[^}]*|:?-)?\}$/.exec(value);
  if (!interpolation) return [`${key} has a literal value; it must be an interpolation such as \${${key}:?...}`];
  const own = service === undefined ? undefined : `${key}_${service.toUpperCase().replace(/-/g, '_')}`;
  if (interpolation[1] !== key && interpolation[1] !== own) return [`${key} interpolates \${${interpolation[1]}}, expected \${${key}...}`];
  return [];
}

/** Problems with one IdP service of the compose file. */
function checkComposeService(compose: Dict, name: ServiceName | 'embedded'): string[] {
  const services = dict(compose.services);
  const service = services[name];
  if (!isDict(service)) return [`no service "${name}"`];
  const problems: string[] = [];
  const where = (p: string) => problems.push(`${name}: ${p}`);

  for (const p of checkServiceCommand(service.command, name)) where(p);

  const context = str(at(service, 'build', 'context')) ?? str(service.build);
  const dockerfile = str(at(service, 'build', 'dockerfile')) ?? 'Dockerfile';
  if (context === undefined) where('no build context: it must be built from the repository Dockerfile');
  else if (!existsSync(join(ROOT, context, dockerfile))) where(`build context ${context} has no ${dockerfile}`);

  const env = composeEnv(service);
  if (name === 'embedded') {
    if (!list(service.profiles).includes('embedded')) where('the all-in-one service must be under the profile "embedded"');
    if (withDefaults(env.get('HOST') ?? '') !== '0.0.0.0') where('HOST must be 0.0.0.0 in a container');
  } else {
    for (const key of [...REQUIRED_ENV[name], ...K8S_CREDENTIALS[name]]) if (!env.has(key)) where(`environment lacks ${key}`);
    if (NO_KEK.includes(name) && env.has('IDP_KEK')) where('must not receive IDP_KEK');
    if (env.has('IDP_NATS_SEED') && !/^\$\{IDP_NATS_SEED_\w+:\?/.test(env.get('IDP_NATS_SEED') ?? '')) where('IDP_NATS_SEED must be required (${IDP_NATS_SEED_<SERVICE>:?message})');
    const expectValue = (key: string, value: string) => {
      const actual = env.get(key);
      if (actual !== undefined && withDefaults(actual) !== value) where(`${key} is "${actual}", expected "${value}" by default`);
    };
    expectValue('EVENT_STORE_URL', 'nats://nats:4222');
    expectValue('BUS_URL', 'nats://nats:4222');
    expectValue('PROJECTIONS_URL', 'redis://redis:6379');
    expectValue('HEALTH_PORT', String(HEALTH_PORT));
    expectValue('IDP_DATA_KEYS_URL', 'nats://nats:4222');
    if (name === 'gateway') {
      expectValue('PORT', '3000');
      expectValue('HOST', '0.0.0.0');
      expectValue('ISSUER', 'http://localhost:3000');
      if (publishedPorts(service).get('3000') !== '3000') where(`must publish port 3000 (ports: ${JSON.stringify(service.ports)})`);
    }
    const dependsOn = dict(service.depends_on);
    for (const dependency of ['nats', 'redis']) {
      if (at(dependsOn, dependency, 'condition') !== 'service_healthy') where(`depends_on.${dependency} must have condition service_healthy`);
    }
    for (const [dependency, spec] of Object.entries(dependsOn)) {
      if (at(spec, 'condition') === 'service_healthy' && healthcheckText(services[dependency]) === undefined) {
        where(`depends on ${dependency} being healthy, but ${dependency} has no healthcheck`);
      }
    }
    if (durationSeconds(service.stop_grace_period) < 25) {
      where(`stop_grace_period is ${str(service.stop_grace_period) ?? '10s (default)'}: the 20 s graceful shutdown needs more`);
    }
  }

  // Whoever serves HTTP must be reachable at its ISSUER: the issuer's port is published to PORT.
  if (env.has('PORT')) {
    const issuer = URL.canParse(withDefaults(env.get('ISSUER') ?? '')) ? new URL(withDefaults(env.get('ISSUER') ?? '')) : undefined;
    const issuerPort = issuer?.port || (issuer?.protocol === 'https:' ? '443' : '80');
    if (publishedPorts(service).get(issuerPort) !== withDefaults(env.get('PORT') ?? '')) {
      where(`ISSUER ${env.get('ISSUER')} is not served: host port ${issuerPort} is not published to PORT ${env.get('PORT')}`);
    }
  }
  problems.push(...checkConfigParses(name, new Map([...env].map(([k, v]) => [k, withDefaults(v)]))));

  const health = healthcheckText(service);
  if (health === undefined) where('no healthcheck');
  else if (!health.includes('/readyz')) where(`healthcheck does not hit /readyz: ${health}`);

  for (const [key, value] of env) {
    if (SECRET_ENV.includes(key) || SECRETISH_NAME.test(key)) for (const p of checkSecretValue(key, value, name)) where(p);
  }
  if (name !== 'embedded' && env.has('IDP_KEK') && !/^\$\{IDP_KEK:?\?/.test(env.get('IDP_KEK') ?? '')) {
    where('IDP_KEK must be required (${IDP_KEK:?message}) so compose refuses to start without it');
  }
  return problems;
}

/** Problems with NATS, Redis and KurrentDB in the compose file. */
function checkComposeInfrastructure(compose: Dict): string[] {
  const problems: string[] = [];
  const services = dict(compose.services);
  const nats = services.nats;
  // Which version, and that it matches infra/k8s: test/deploy/nats-cluster.test.ts.
  if (!/^nats:\d+\.\d+\.\d+-alpine$/.test(str(at(nats, 'image')) ?? '')) problems.push(`nats image is ${str(at(nats, 'image'))}, expected an exact nats:<x.y.z>-alpine`);
  const natsArgs = commandArgs(at(nats, 'command'));
  if (!natsArgs.includes('-js') && !natsArgs.includes('--jetstream')) problems.push('nats runs without JetStream (-js)');
  const storeDirIndex = natsArgs.findIndex((a) => a === '-sd' || a === '--store_dir');
  const storeDir = storeDirIndex >= 0 ? natsArgs[storeDirIndex + 1] : undefined;
  if (storeDir === undefined) problems.push('nats has no JetStream storage directory (-sd)');
  else if (!list(at(nats, 'volumes')).some((v) => String(isDict(v) ? v.target : v).split(':')[1] === storeDir || (isDict(v) && v.target === storeDir))) {
    problems.push(`nats stores JetStream in ${storeDir}, which is not a volume`);
  }
  if (!/^redis:7(\.|-|$)/.test(str(at(services.redis, 'image')) ?? '')) problems.push('redis must be redis:7');
  const kurrent = services.kurrentdb;
  if (str(at(kurrent, 'image')) !== 'docker.kurrent.io/kurrent-latest/kurrentdb:latest') problems.push('kurrentdb image is not docker.kurrent.io/kurrent-latest/kurrentdb:latest');
  const kurrentEnv = composeEnv(kurrent);
  if (kurrentEnv.get('KURRENTDB_INSECURE') !== 'true') problems.push('kurrentdb must run with KURRENTDB_INSECURE=true locally');
  for (const name of ['nats', 'redis', 'kurrentdb']) if (healthcheckText(services[name]) === undefined) problems.push(`${name} has no healthcheck`);
  return problems;
}

/** Literal secrets anywhere in a file: a 32-byte base64url key, or a long base64 blob. */
function findLiteralKeys(source: string): string[] {
  return [...source.matchAll(/(?<![A-Za-z0-9_\-+/])[A-Za-z0-9_\-+/]{43,}={0,2}(?![A-Za-z0-9_\-+/])/g)]
    .map((m) => m[0])
    .filter((token) => /[0-9]/.test(token) && /[A-Z]/.test(token) && /[a-z]/.test(token));
}

// ------------------------------------------------------------------------------------------
// Dockerfile and .dockerignore
// ------------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Logical instructions (continuations joined, comments dropped), split into FROM stages. */
function parseDockerfile(source: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of source.split(/\r?\n/)) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full !== '') logical.push(full);
  }
  if (pending.trim() !== '') logical.push(pending.trim());

  const globalArgs = new Map<string, string>();
  const substitute = (text: string) =>
    text.replace(/\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)/g, (_, a: string | undefined, fallback: string | undefined, b: string | undefined) =>
      globalArgs.get(a ?? b ?? '') ?? fallback ?? '',
    );
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const words = substitute(args).split(/\s+/).filter((w) => !w.startsWith('--'));
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ image: words[0] ?? '', name: asIndex >= 0 ? words[asIndex + 1] : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (upper === 'ARG') {
        const [name = '', value = ''] = args.split('=');
        globalArgs.set(name.trim(), value.trim());
      }
    } else {
      stages[stages.length - 1]?.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

/** .dockerignore semantics, simplified: ordered globs, `!` re-includes, a directory covers its contents. */
function dockerIgnoreMatcher(source: string): (path: string) => boolean {
  const rules = source
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      const regex = pattern
        .split('')
        .map((c, i, all) => {
          if (c === '*') return all[i + 1] === '*' ? '' : all[i - 1] === '*' ? '.*' : '[^/]*';
          if (c === '?') return '[^/]';
          return /[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
        })
        .join('');
      return { negate, regex: new RegExp(`^${regex}(/.*)?$`) };
    });
  return (path: string) => {
    const normalized = posix.normalize(path.replace(/^\.?\/+/, '')).replace(/\/+$/, '');
    let ignored = false;
    for (const rule of rules) if (rule.regex.test(normalized)) ignored = !rule.negate;
    return ignored;
  };
}

/** COPY/ADD arguments without flags: sources then destination (shell or JSON form). */
function copyArgs(args: string): { flags: string[]; sources: string[]; dest: string } {
  const trimmed = args.trim();
  const words = trimmed.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = trimmed.slice(trimmed.indexOf(words.find((w) => !w.startsWith('--')) ?? ''));
  const parts: string[] = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  return { flags, sources: parts.slice(0, -1), dest: parts[parts.length - 1] ?? '' };
}

function checkDockerfile(source: string, dockerignore: string): string[] {
  const problems: string[] = [];
  const stages = parseDockerfile(source);
  if (stages.length < 2) return [`${stages.length} FROM stage(s): a multi-stage build needs at least two`];
  for (const stage of stages) {
    if (!/^node:20(\.\d+)*-bookworm-slim(@sha256:[0-9a-f]{64})?$/.test(stage.image)) problems.push(`stage ${stage.name ?? '?'} is FROM ${stage.image}, expected node:20-bookworm-slim`);
  }
  const ignored = dockerIgnoreMatcher(dockerignore);
  const build = stages[0] as Stage;
  const runtime = stages[stages.length - 1] as Stage;

  const buildRuns = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
  for (const needed of ['python3', 'make', 'g++', 'npm ci', 'npm run build', 'npm prune --omit=dev']) {
    if (!buildRuns.includes(needed)) problems.push(`build stage never runs "${needed}"`);
  }
  for (const copy of build.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
    const { flags, sources } = copyArgs(copy.args);
    if (flags.some((f) => f.startsWith('--from'))) continue;
    for (const src of sources) {
      if (!existsSync(join(ROOT, src))) problems.push(`build stage copies ${src}, which is not in the repository`);
      else if (ignored(src)) problems.push(`build stage copies ${src}, but .dockerignore excludes it from the context`);
    }
  }

  const users = runtime.instructions.filter((i) => i.keyword === 'USER');
  const user = users[users.length - 1]?.args.trim().split(':')[0];
  if (user === undefined) problems.push('the runtime stage has no USER: it would run as root');
  else if (user === 'root' || user === '0') problems.push(`the runtime stage runs as ${user}`);
  else if (!/^\d+$/.test(user)) problems.push(`USER ${user} is not numeric: Kubernetes cannot verify runAsNonRoot`);

  const env = runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
  if (!/\bNODE_ENV[= ]"?production\b/.test(env)) problems.push('the runtime stage does not set NODE_ENV=production');

  for (const copy of runtime.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
    const { flags, sources } = copyArgs(copy.args);
    if (!flags.some((f) => f.startsWith('--from'))) {
      problems.push(`the runtime stage copies ${sources.join(' ')} from the build context; only build output belongs there`);
      continue;
    }
    for (const src of sources) {
      if (!['dist', 'node_modules', 'package.json'].includes(posix.basename(src))) {
        problems.push(`the runtime stage copies ${src}; only dist, node_modules and package.json belong there`);
      }
    }
  }
  if (runtime.instructions.some((i) => i.keyword === 'RUN' && /\b(g\+\+|gcc|python3|build-essential)\b/.test(i.args))) {
    problems.push('the runtime stage installs a compiler');
  }

  const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD').at(-1);
  if (cmd === undefined || !cmd.args.trim().startsWith('[')) problems.push('the runtime stage needs an exec-form CMD (node as PID 1 gets SIGTERM)');
  else problems.push(...checkServiceCommand(JSON.parse(cmd.args) as unknown, 'embedded').map((p) => `CMD: ${p}`));
  return problems;
}

function checkDockerignore(source: string): string[] {
  const ignored = dockerIgnoreMatcher(source);
  const mustIgnore = ['node_modules', 'dist', '.git', '.env', 'data', 'data/kek'];
  const mustKeep = ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'contracts', 'infra', 'services', 'services/gateway/main.ts'];
  return [
    ...mustIgnore.filter((p) => !ignored(p)).map((p) => `.dockerignore lets ${p} into the build context`),
    ...mustKeep.filter((p) => ignored(p)).map((p) => `.dockerignore excludes ${p}, which the build needs`),
  ];
}

// ------------------------------------------------------------------------------------------
// Kubernetes
// ------------------------------------------------------------------------------------------

interface ModelClass {
  new (data: never): { validate(): void };
  apiVersion: string;
  kind: string;
}
const MODELS: ModelClass[] = [Namespace, ConfigMap, Secret, Service, Deployment, StatefulSet, HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicy];
const MODEL_BY_TYPE = new Map(MODELS.map((m) => [`${m.apiVersion}/${m.kind}`, m]));

/** Validates one object against the Kubernetes OpenAPI schema of its apiVersion and kind; throws otherwise. */
function validateK8sObject(object: unknown): void {
  const type = `${str(at(object, 'apiVersion'))}/${str(at(object, 'kind'))}`;
  const Model = MODEL_BY_TYPE.get(type);
  if (Model === undefined) throw new Error(`no schema for ${type}: expected one of ${[...MODEL_BY_TYPE.keys()].join(', ')}`);
  if (!str(at(object, 'metadata', 'name'))) throw new Error(`${type} without metadata.name`);
  new Model(object as never).validate();
}

interface K8sObject {
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  body: Dict;
}

const K8S_DIR = 'infra/k8s';
const KUSTOMIZATION = 'kustomization.yaml';

function k8sFiles(): string[] {
  return readdirSync(join(ROOT, K8S_DIR))
    .filter((f) => /\.ya?ml$/.test(f) && statSync(join(ROOT, K8S_DIR, f)).isFile())
    .sort();
}

function loadK8sObjects(): K8sObject[] {
  return k8sFiles()
    .filter((f) => f !== KUSTOMIZATION)
    .flatMap((file) =>
      loadYamlDocuments(read(`${K8S_DIR}/${file}`), file).map((body) => ({
        file,
        apiVersion: str(at(body, 'apiVersion')) ?? '',
        kind: str(at(body, 'kind')) ?? '',
        name: str(at(body, 'metadata', 'name')) ?? '',
        body: dict(body),
      })),
    );
}

const matchesLabels = (selector: unknown, labels: unknown) => {
  const wanted = Object.entries(dict(selector));
  return wanted.length > 0 && wanted.every(([k, v]) => dict(labels)[k] === v);
};

/**
 * A container's environment as the kubelet builds it: envFrom ConfigMaps and Secrets, then env
 * (literal values and secretKeyRef, whose values stay the Secret's, placeholders included).
 */
function containerEnv(container: Dict, configMaps: Map<string, Dict>, secrets: Map<string, Dict>, problem: (p: string) => void): Map<string, string> {
  const env = new Map<string, string>();
  const add = (data: Dict) => Object.entries(data).forEach(([k, v]) => env.set(k, str(v) ?? ''));
  for (const source of list(container.envFrom)) {
    const cm = str(at(source, 'configMapRef', 'name'));
    const secret = str(at(source, 'secretRef', 'name'));
    if (cm !== undefined) {
      const data = configMaps.get(cm);
      if (data === undefined) problem(`envFrom ConfigMap ${cm} is not in the manifests`);
      else add(data);
    }
    if (secret !== undefined) {
      const data = secrets.get(secret);
      if (data === undefined) problem(`envFrom Secret ${secret} is not in the manifests`);
      else add(data);
    }
  }
  for (const entry of list(container.env).map(dict)) {
    const name = str(entry.name) ?? '';
    const secretRef = at(entry, 'valueFrom', 'secretKeyRef');
    if (isDict(secretRef)) {
      const data = secrets.get(str(secretRef.name) ?? '');
      const key = str(secretRef.key) ?? '';
      if (data === undefined) problem(`${name} refers to Secret ${str(secretRef.name)}, which is not in the manifests`);
      else if (!(key in data)) problem(`Secret ${str(secretRef.name)} has no key ${key}`);
      else env.set(name, str(data[key]) ?? '');
    } else {
      if ((SECRET_ENV.includes(name) || SECRETISH_NAME.test(name)) && entry.value !== undefined) {
        problem(`${name} has a literal value; secrets come from a Secret`);
      }
      env.set(name, str(entry.value) ?? '');
    }
  }
  return env;
}

/** Problems with one Deployment, given every object it should be wired to. */
function checkDeployment(deployment: K8sObject, objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const where = (p: string) => problems.push(`Deployment ${deployment.name}: ${p}`);
  const spec = dict(deployment.body.spec);
  const podLabels = at(spec, 'template', 'metadata', 'labels');
  const component = str(at(podLabels, 'app.kubernetes.io/component')) ?? '';
  const pod = dict(at(spec, 'template', 'spec'));
  const containers = list(pod.containers).map(dict);

  if (!matchesLabels(at(spec, 'selector', 'matchLabels'), podLabels)) where('selector.matchLabels does not match the pod template labels');
  if (!(SERVICES as readonly string[]).includes(component)) where(`pod label app.kubernetes.io/component is "${component}", expected one of ${SERVICES.join(', ')}`);
  if (containers.length === 0) where('no containers');
  const grace = Number(pod.terminationGracePeriodSeconds ?? 30);
  if (!(grace >= 30)) where(`terminationGracePeriodSeconds ${grace}: preStop + 20 s shutdown need at least 30`);
  if (at(pod, 'securityContext', 'runAsNonRoot') !== true && !containers.every((c) => at(c, 'securityContext', 'runAsNonRoot') === true)) {
    where('runAsNonRoot is not true');
  }

  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.name, dict(o.body.data)]));
  const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [o.name, { ...dict(o.body.data), ...dict(o.body.stringData) }]));

  for (const container of containers) {
    const c = `container ${str(container.name)}`;
    if (SERVICES.includes(component as ServiceName)) for (const p of checkServiceCommand(container.command ?? container.args, component)) where(`${c}: ${p}`);
    const image = str(container.image) ?? '';
    if (!/^[^:@]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/.test(image) || image.endsWith(':latest')) where(`${c}: image "${image}" needs a fixed tag`);

    const ports = list(container.ports).map(dict);
    const portNumber = (port: unknown): number | undefined =>
      typeof port === 'number' ? port : (ports.find((p) => p.name === port)?.containerPort as number | undefined);

    for (const [probe, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']] as const) {
      const get = at(container, probe, 'httpGet');
      if (!isDict(get)) where(`${c}: no ${probe} (httpGet ${path})`);
      else {
        if (get.path !== path) where(`${c}: ${probe} hits ${str(get.path)}, expected ${path}`);
        if (portNumber(get.port) !== HEALTH_PORT) where(`${c}: ${probe} port ${str(get.port)} is not the health port ${HEALTH_PORT}`);
      }
    }

    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory']) {
        if (str(at(container, 'resources', kind, resource)) === undefined) where(`${c}: no resources.${kind}.${resource}`);
      }
    }
    const security = dict(container.securityContext);
    if (security.readOnlyRootFilesystem !== true) where(`${c}: readOnlyRootFilesystem is not true`);
    if (security.allowPrivilegeEscalation !== false) where(`${c}: allowPrivilegeEscalation is not false`);
    if (!list(at(security, 'capabilities', 'drop')).includes('ALL')) where(`${c}: capabilities are not all dropped`);

    const preStop = dict(at(container, 'lifecycle', 'preStop'));
    const sleepSeconds = Number(at(preStop, 'sleep', 'seconds') ?? NaN);
    const execSleep = commandArgs(at(preStop, 'exec', 'command'));
    const execSeconds = execSleep[0] === 'sleep' ? Number(execSleep[1]) : NaN;
    const seconds = Number.isFinite(sleepSeconds) ? sleepSeconds : execSeconds;
    if (!(seconds > 0)) where(`${c}: no preStop sleep (endpoints must be removed before SIGTERM)`);
    else if (seconds + 20 > grace) where(`${c}: preStop ${seconds} s + 20 s shutdown exceed terminationGracePeriodSeconds ${grace}`);

    // The environment the process will see: ConfigMaps through envFrom, secrets through secretKeyRef.
    const env = containerEnv(container, configMaps, secrets, (p) => where(`${c}: ${p}`));
    if (SERVICES.includes(component as ServiceName)) {
      for (const key of [...REQUIRED_ENV[component as ServiceName], ...K8S_CREDENTIALS[component as ServiceName]]) if (!env.has(key)) where(`${c}: environment lacks ${key}`);
      if (NO_KEK.includes(component as ServiceName) && env.has('IDP_KEK')) where(`${c}: must not receive IDP_KEK`);
      problems.push(...checkConfigParses(component as ServiceName, env).map((p) => `Deployment ${deployment.name}: ${p}`));
    }

    // Services that select this pod must point at ports the container has.
    const services = objects.filter((o) => o.kind === 'Service' && matchesLabels(at(o.body, 'spec', 'selector'), podLabels));
    if (services.length === 0) where('no Service selects its pods');
    for (const service of services) {
      for (const port of list(at(service.body, 'spec', 'ports')).map(dict)) {
        const target = port.targetPort ?? port.port;
        if (portNumber(target) === undefined) where(`Service ${service.name} targets port ${str(target)}, which the container does not declare`);
      }
    }
    if (component === 'gateway') {
      const http = services.flatMap((s) => list(at(s.body, 'spec', 'ports')).map(dict)).find((p) => p.port === 80);
      if (http === undefined || portNumber(http.targetPort) !== 3000) where('the gateway Service must map port 80 to container port 3000');
    }
  }

  const hpas = objects.filter(
    (o) =>
      o.kind === 'HorizontalPodAutoscaler' &&
      at(o.body, 'spec', 'scaleTargetRef', 'kind') === 'Deployment' &&
      at(o.body, 'spec', 'scaleTargetRef', 'apiVersion') === 'apps/v1' &&
      at(o.body, 'spec', 'scaleTargetRef', 'name') === deployment.name,
  );
  if (hpas.length !== 1) where(`${hpas.length} HorizontalPodAutoscalers target it, expected 1`);
  for (const hpa of hpas) {
    const cpu = list(at(hpa.body, 'spec', 'metrics')).find((m) => at(m, 'resource', 'name') === 'cpu');
    if (at(cpu, 'resource', 'target', 'type') !== 'Utilization' || at(cpu, 'resource', 'target', 'averageUtilization') !== 70) {
      where(`HPA ${hpa.name} does not scale on 70 % CPU utilization`);
    }
    if (!(Number(at(hpa.body, 'spec', 'minReplicas')) >= 2)) where(`HPA ${hpa.name} minReplicas < 2: the PDB would block every drain`);
  }
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget' && matchesLabels(at(o.body, 'spec', 'selector', 'matchLabels'), podLabels));
  if (pdbs.length !== 1) where(`${pdbs.length} PodDisruptionBudgets select its pods, expected 1`);
  for (const pdb of pdbs) if (at(pdb.body, 'spec', 'minAvailable') !== 1) where(`PDB ${pdb.name} minAvailable is not 1`);
  return problems;
}

function checkKustomization(kustomization: unknown, files: string[]): string[] {
  const resources = list(at(kustomization, 'resources')).map((r) => str(r) ?? '');
  const expected = files.filter((f) => f !== KUSTOMIZATION);
  return [
    ...expected.filter((f) => !resources.includes(f)).map((f) => `kustomization.yaml does not list ${f}`),
    ...resources.filter((r) => !existsSync(join(ROOT, K8S_DIR, r))).map((r) => `kustomization.yaml lists ${r}, which does not exist`),
    ...(at(kustomization, 'kind') === 'Kustomization' ? [] : ['kustomization.yaml is not kind: Kustomization']),
  ];
}

/** Secret values must be obvious placeholders; ConfigMaps must hold no secret. */
function checkSecretsAndConfig(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    if (object.kind === 'Secret') {
      const values = [
        ...Object.entries(dict(object.body.stringData)).map(([k, v]) => [k, str(v) ?? ''] as const),
        ...Object.entries(dict(object.body.data)).map(([k, v]) => [k, Buffer.from(str(v) ?? '', 'base64').toString('utf8')] as const),
      ];
      for (const [key, value] of values) if (!value.includes('REPLACE_ME')) problems.push(`Secret ${object.name}.${key} is not a REPLACE_ME placeholder`);
    }
    if (object.kind === 'ConfigMap') {
      for (const [key, value] of Object.entries(dict(object.body.data))) {
        // IDP_NKEY_<IDENTITY> are NKey public keys (IDP_NKEY_TOKEN_ISSUER only looks like a token).
        if (SECRET_ENV.includes(key) || (SECRETISH_NAME.test(key) && !/^IDP_NKEY_[A-Z_]+$/.test(key))) problems.push(`ConfigMap ${object.name} holds ${key}: secrets belong in a Secret`);
        if (/^\w+:\/\/[^/\s]*:[^/\s]*@/.test(str(value) ?? '')) problems.push(`ConfigMap ${object.name}.${key} carries credentials in its URL`);
      }
    }
  }
  return problems;
}

// ==========================================================================================
// The tests
// ==========================================================================================

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');
  const dockerignore = read('.dockerignore');

  test('multi-stage node:20-bookworm-slim build, native toolchain, pruned, non-root runtime running the embedded main', () => {
    expect(checkDockerfile(dockerfile, dockerignore)).toEqual([]);
    expect(parseDockerfile(dockerfile).length).toBeGreaterThanOrEqual(2);
  });

  test('.dockerignore keeps host node_modules, dist, .git, .env and data out, and the sources in', () => {
    expect(checkDockerignore(dockerignore)).toEqual([]);
  });

  test('the Dockerfile checks fail on a single stage, a root user, no USER, or a wrong CMD', () => {
    expect(checkDockerfile('FROM node:20-bookworm-slim\nUSER 1000\nCMD ["node", "dist/services/embedded/main.js"]\n', dockerignore)[0]).toMatch(/at least two/);
    const asRoot = `${dockerfile}\nUSER root\n`;
    expect(checkDockerfile(asRoot, dockerignore)).toContainEqual('the runtime stage runs as root');
    const noUser = dockerfile.replace(/^USER .*$/gm, '');
    expect(checkDockerfile(noUser, dockerignore)).toContainEqual(expect.stringMatching(/no USER/));
    const named = dockerfile.replace(/^USER .*$/gm, 'USER node');
    expect(checkDockerfile(named, dockerignore)).toContainEqual(expect.stringMatching(/not numeric/));
    const wrongCmd = dockerfile.replace(/dist\/services\/embedded\/main\.js/g, 'dist/services/nowhere/main.js');
    expect(checkDockerfile(wrongCmd, dockerignore)).toContainEqual(expect.stringMatching(/^CMD: command is/));
    const leaky = `${dockerfile}\nCOPY services ./services\n`;
    expect(checkDockerfile(leaky, dockerignore)).toContainEqual(expect.stringMatching(/from the build context/));
    expect(checkDockerfile(dockerfile, `${dockerignore}\n.npmrc\n`)).toContainEqual(expect.stringMatching(/\.dockerignore excludes it/));
    const noPrune = dockerfile.replace(/npm prune --omit=dev/g, 'true');
    expect(checkDockerfile(noPrune, dockerignore)).toContainEqual('build stage never runs "npm prune --omit=dev"');
  });

  test('the .dockerignore check fails when secrets or host builds would enter the context', () => {
    expect(checkDockerignore('node_modules\n')).toEqual(expect.arrayContaining([expect.stringMatching(/lets \.env/), expect.stringMatching(/lets data/)]));
    expect(checkDockerignore(`${dockerignore}\nservices\n`)).toContainEqual('.dockerignore excludes services, which the build needs');
    expect(checkDockerignore(`${dockerignore}\n!.env\n`)).toContainEqual('.dockerignore lets .env into the build context');
  });
});

describe('docker-compose.yml', () => {
  const source = read('docker-compose.yml');
  const compose = loadCompose(source);

  test.each([...SERVICES, 'embedded' as const])('%s: command of an existing main, image from the Dockerfile, env, /readyz healthcheck, no literal secret', (name) => {
    expect(checkComposeService(compose, name)).toEqual([]);
  });

  test('nats (exact version) with JetStream on a volume, redis 7, insecure kurrentdb, all with healthchecks', () => {
    expect(checkComposeInfrastructure(compose)).toEqual([]);
  });

  test('the gateway (discovery) and the token-issuer (`iss`) are given the same ISSUER', () => {
    const issuer = (name: string) => composeEnv(dict(compose.services)[name]).get('ISSUER');
    expect(issuer('gateway')).toBeDefined();
    expect(issuer('token-issuer')).toBe(issuer('gateway'));
  });

  test('no literal key anywhere in the file, and the KurrentDB switch is documented', () => {
    expect(findLiteralKeys(source)).toEqual([]);
    expect(source).toMatch(/kurrentdb:\/\/kurrentdb:2113\?tls=false/);
  });

  test('the compose checks fail on a broken service', () => {
    const broken = (mutate: (gateway: Dict, services: Dict) => void) => {
      const copy = clone(compose);
      const services = dict(copy.services);
      mutate(dict(services.gateway), services);
      return checkComposeService(copy, 'gateway');
    };
    expect(broken((g) => (g.command = ['node', 'dist/services/nowhere/main.js']))).toContainEqual(expect.stringMatching(/command is/));
    expect(broken((g) => (g.command = 'node dist/services/authn/main.js'))).toContainEqual(expect.stringMatching(/expected \["node", "dist\/services\/gateway/));
    expect(broken((g) => delete g.healthcheck)).toContainEqual('gateway: no healthcheck');
    expect(broken((g) => (g.healthcheck = { test: ['CMD', 'true'] }))).toContainEqual(expect.stringMatching(/does not hit \/readyz/));
    expect(broken((g) => delete dict(g.environment).BUS_URL)).toContainEqual('gateway: environment lacks BUS_URL');
    expect(broken((g) => (dict(g.environment).PROJECTIONS_URL = 'redis://localhost:6379'))).toContainEqual(expect.stringMatching(/PROJECTIONS_URL is/));
    expect(broken((g) => (dict(g.environment).IDP_KEK = 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8A'))).toContainEqual(expect.stringMatching(/IDP_KEK has a literal value/));
    expect(broken((g) => (dict(g.environment).IDP_KEK = '${IDP_KEK:-q83vEjRWeJ}'))).toContainEqual(expect.stringMatching(/IDP_KEK has a literal value/));
    expect(broken((g) => (dict(g.environment).IDP_KEK = '${IDP_KEK}'))).toContainEqual(expect.stringMatching(/must be required/));
    expect(broken((g) => (dict(g.environment).IDP_INITIAL_ACCESS_TOKEN = 'let-me-in'))).toContainEqual(expect.stringMatching(/IDP_INITIAL_ACCESS_TOKEN has a literal value/));
    expect(broken((g) => (g.depends_on = ['nats', 'redis']))).toContainEqual('gateway: depends_on.nats must have condition service_healthy');
    expect(broken((_, s) => delete dict(s.redis).healthcheck)).toContainEqual('gateway: depends on redis being healthy, but redis has no healthcheck');
    expect(broken((g) => delete g.stop_grace_period)).toContainEqual(expect.stringMatching(/stop_grace_period/));
    expect(broken((g) => (g.ports = ['8080:3000']))).toContainEqual(expect.stringMatching(/publish port 3000/));
    expect(broken((g) => (dict(g.environment).ISSUER = 'http://localhost:4000'))).toContainEqual(expect.stringMatching(/ISSUER http:\/\/localhost:4000 is not served/));
    expect(broken((g) => (dict(g.environment).BUS_URL = 'amqp://rabbit:5672'))).toContainEqual(expect.stringMatching(/^gateway: config BUS_URL: unsupported BUS_URL/));
    expect(broken((g) => (dict(g.environment).ISSUER = 'not a url'))).toContainEqual(expect.stringMatching(/^gateway: config ISSUER/));
    expect(broken((g) => delete g.build)).toContainEqual(expect.stringMatching(/no build context/));
    const withoutKek = clone(compose);
    delete dict(dict(dict(withoutKek.services).authn).environment).IDP_KEK;
    expect(checkComposeService(withoutKek, 'authn')).toEqual(
      expect.arrayContaining(['authn: environment lacks IDP_KEK', expect.stringMatching(/^authn: config IDP_KEK/)]),
    );
    const leaked = clone(compose);
    dict(dict(dict(leaked.services)['client-registry']).environment).IDP_KEK = '${IDP_KEK:?set it}';
    expect(checkComposeService(leaked, 'client-registry')).toContainEqual('client-registry: must not receive IDP_KEK');
    const store = clone(compose);
    dict(dict(dict(store.services).authn).environment).EVENT_STORE_URL = 'postgres://db:5432';
    expect(checkComposeService(store, 'authn')).toContainEqual(expect.stringMatching(/^authn: config EVENT_STORE_URL: unsupported/));
    const embeddedStore = clone(compose);
    dict(dict(dict(embeddedStore.services).embedded).environment).EVENT_STORE_URL = 'nats://nats:4222';
    expect(checkComposeService(embeddedStore, 'embedded')).toContainEqual(expect.stringMatching(/^embedded: invalid configuration/));
    const noProfile = clone(compose);
    delete dict(dict(noProfile.services).embedded).profiles;
    expect(checkComposeService(noProfile, 'embedded')).toContainEqual(expect.stringMatching(/profile "embedded"/));
  });

  test('the infrastructure and literal-key checks fail on a broken file', () => {
    const copy = clone(compose);
    const services = dict(copy.services);
    dict(services.nats).command = ['-sd', '/elsewhere'];
    dict(services.nats).image = 'nats:2.12-alpine';
    dict(services.redis).image = 'redis:6';
    delete dict(services.kurrentdb).healthcheck;
    expect(checkComposeInfrastructure(copy)).toEqual(
      expect.arrayContaining([
        'nats image is nats:2.12-alpine, expected an exact nats:<x.y.z>-alpine',
        'nats runs without JetStream (-js)',
        'nats stores JetStream in /elsewhere, which is not a volume',
        'redis must be redis:7',
        'kurrentdb has no healthcheck',
      ]),
    );
    expect(findLiteralKeys(`${source}\n  IDP_KEK: q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8A\n`)).toHaveLength(1);
  });
});

describe('infra/k8s', () => {
  const files = k8sFiles();
  const objects = loadK8sObjects();
  const deployments = objects.filter((o) => o.kind === 'Deployment');

  test('every document of every file is a valid Kubernetes object of a known kind', () => {
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      try {
        validateK8sObject(object.body);
      } catch (error) {
        throw new Error(`${object.file}: ${object.kind} ${object.name}: ${(error as Error).message}`);
      }
    }
  });

  test('namespace, ConfigMap, a placeholder Secret per service and the Redis ACL one, and a Deployment, Service, HPA and PDB per service', () => {
    // NATS (nats.yaml) has its own objects, checked in nats-cluster.test.ts.
    const kinds = (kind: string) => objects.filter((o) => o.kind === kind && at(o.body, 'metadata', 'labels', 'app.kubernetes.io/name') !== 'nats').length;
    expect(kinds('Namespace')).toBe(1);
    expect(kinds('ConfigMap')).toBeGreaterThanOrEqual(1);
    expect(kinds('Secret')).toBe(SERVICES.length + 1);
    for (const kind of ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) expect(kinds(kind)).toBe(SERVICES.length);
    expect(kinds('Service')).toBe(SERVICES.length);
    const components = deployments.map((d) => str(at(d.body, 'spec', 'template', 'metadata', 'labels', 'app.kubernetes.io/component'))).sort();
    expect(components).toEqual([...SERVICES].sort());
    const namespace = objects.find((o) => o.kind === 'Namespace')?.name;
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) expect([object.name, at(object.body, 'metadata', 'namespace')]).toEqual([object.name, namespace]);
  });

  test.each(SERVICES)('Deployment of %s: command, probes, resources, security, preStop, env, Service, HPA and PDB', (name) => {
    const deployment = deployments.find((d) => at(d.body, 'spec', 'template', 'metadata', 'labels', 'app.kubernetes.io/component') === name);
    expect(deployment).toBeDefined();
    expect(checkDeployment(deployment as K8sObject, objects)).toEqual([]);
  });

  test('Secrets are REPLACE_ME placeholders, ConfigMaps hold no secret and point at in-cluster Services', () => {
    expect(checkSecretsAndConfig(objects)).toEqual([]);
    const config = dict(objects.find((o) => o.kind === 'ConfigMap' && 'BUS_URL' in dict(o.body.data))?.body.data);
    for (const key of ['EVENT_STORE_URL', 'BUS_URL', 'PROJECTIONS_URL', 'IDP_DATA_KEYS_URL']) {
      expect([key, str(config[key])]).toEqual([key, expect.stringMatching(/^(nats|redis|kurrentdb):\/\/[a-z0-9-]+(\.[a-z0-9-]+)*\.svc(\.cluster\.local)?:\d+/)]);
    }
    expect(str(config.HEALTH_PORT)).toBe(String(HEALTH_PORT));
    for (const file of files) expect([file, findLiteralKeys(read(`${K8S_DIR}/${file}`))]).toEqual([file, []]);
  });

  test('the gateway and the token-issuer are given the same ISSUER', () => {
    const envOf = (name: ServiceName) => {
      const deployment = deployments.find((d) => at(d.body, 'spec', 'template', 'metadata', 'labels', 'app.kubernetes.io/component') === name);
      const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.name, dict(o.body.data)]));
      const container = dict(at(deployment?.body, 'spec', 'template', 'spec', 'containers', 0));
      return containerEnv(container, configMaps, new Map(), () => {});
    };
    expect(envOf('gateway').get('ISSUER')).toMatch(/^https:\/\//);
    expect(envOf('token-issuer').get('ISSUER')).toBe(envOf('gateway').get('ISSUER'));
  });

  test('kustomization.yaml lists every manifest file and nothing else', () => {
    const [kustomization] = loadYamlDocuments(read(`${K8S_DIR}/${KUSTOMIZATION}`), KUSTOMIZATION);
    expect(checkKustomization(kustomization, files)).toEqual([]);
  });

  test('schema validation throws on broken objects and unknown kinds', () => {
    const deployment = clone(deployments[0] as K8sObject).body;
    expect(() => validateK8sObject(deployment)).not.toThrow();
    const noSelector = clone(deployment);
    delete dict(noSelector.spec).selector;
    expect(() => validateK8sObject(noSelector)).toThrow(/selector/);
    const badReplicas = clone(deployment);
    dict(badReplicas.spec).replicas = 'two';
    expect(() => validateK8sObject(badReplicas)).toThrow(/integer/);
    const badPort = clone(deployment);
    dict(at(badPort, 'spec', 'template', 'spec', 'containers', 0)).ports = [{ containerPort: 'http' }];
    expect(() => validateK8sObject(badPort)).toThrow();
    expect(() => validateK8sObject({ ...deployment, apiVersion: 'apps/v1beta1' })).toThrow(/no schema/);
    expect(() => validateK8sObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } })).toThrow(/no schema/);
    const hpa = clone(objects.find((o) => o.kind === 'HorizontalPodAutoscaler') as K8sObject).body;
    delete dict(hpa.spec).maxReplicas;
    expect(() => validateK8sObject(hpa)).toThrow(/maxReplicas/);
  });

  test('the Deployment checks fail when probes, resources, security, preStop, env, HPA or PDB go missing', () => {
    const gateway = deployments.find((d) => d.name.endsWith('gateway')) as K8sObject;
    const breakIt = (mutate: (container: Dict, pod: Dict) => void, others: K8sObject[] = objects) => {
      const copy = clone(gateway);
      const pod = dict(at(copy.body, 'spec', 'template', 'spec'));
      mutate(dict(list(pod.containers)[0]), pod);
      return checkDeployment(copy, others.map((o) => (o === gateway ? copy : o)));
    };
    expect(breakIt((c) => delete c.livenessProbe)).toContainEqual(expect.stringMatching(/no livenessProbe/));
    expect(breakIt((c) => delete c.readinessProbe)).toContainEqual(expect.stringMatching(/no readinessProbe/));
    expect(breakIt((c) => (dict(at(c, 'readinessProbe', 'httpGet')).path = '/healthz'))).toContainEqual(expect.stringMatching(/expected \/readyz/));
    expect(breakIt((c) => (dict(at(c, 'livenessProbe', 'httpGet')).port = 'http'))).toContainEqual(expect.stringMatching(/not the health port/));
    expect(breakIt((c) => delete dict(c.resources).requests)).toContainEqual(expect.stringMatching(/no resources.requests.cpu/));
    expect(breakIt((c, p) => (delete dict(p.securityContext).runAsNonRoot, delete dict(c.securityContext).runAsNonRoot))).toContainEqual(expect.stringMatching(/runAsNonRoot/));
    expect(breakIt((c) => (dict(c.securityContext).readOnlyRootFilesystem = false))).toContainEqual(expect.stringMatching(/readOnlyRootFilesystem/));
    expect(breakIt((c) => (dict(c.securityContext).allowPrivilegeEscalation = true))).toContainEqual(expect.stringMatching(/allowPrivilegeEscalation/));
    expect(breakIt((c) => delete c.lifecycle)).toContainEqual(expect.stringMatching(/no preStop sleep/));
    expect(breakIt((_, p) => (p.terminationGracePeriodSeconds = 10))).toContainEqual(expect.stringMatching(/terminationGracePeriodSeconds 10/));
    expect(breakIt((c) => (c.command = ['node', 'dist/services/nowhere/main.js']))).toContainEqual(expect.stringMatching(/command is/));
    expect(breakIt((c) => (c.image = 'ghcr.io/example/idp:latest'))).toContainEqual(expect.stringMatching(/fixed tag/));
    expect(breakIt((c) => (c.env = []))).toContainEqual(expect.stringMatching(/environment lacks IDP_KEK/));
    expect(breakIt((c) => (c.env = [{ name: 'IDP_KEK', value: 'plain' }]))).toContainEqual(expect.stringMatching(/IDP_KEK has a literal value/));
    const registry = deployments.find((d) => d.name.endsWith('client-registry')) as K8sObject;
    expect(checkDeployment(registry, objects)).toEqual([]);
    const leaky = clone(registry);
    const registryContainer = dict(list(dict(at(leaky.body, 'spec', 'template', 'spec')).containers)[0]);
    registryContainer.env = [{ name: 'IDP_KEK', valueFrom: { secretKeyRef: { name: 'idp-authn', key: 'IDP_KEK' } } }];
    expect(checkDeployment(leaky, objects.map((o) => (o === registry ? leaky : o)))).toContainEqual(expect.stringMatching(/must not receive IDP_KEK/));
    expect(breakIt((c) => (c.envFrom = [{ configMapRef: { name: 'missing' } }]))).toContainEqual(expect.stringMatching(/ConfigMap missing is not in the manifests/));
    expect(breakIt((c) => (c.ports = [{ name: 'health', containerPort: HEALTH_PORT }]))).toContainEqual(expect.stringMatching(/targets port http/));
    const badBus = objects.map((o) => {
      if (o.kind !== 'ConfigMap' || !('BUS_URL' in dict(o.body.data))) return o;
      const copy = clone(o);
      dict(copy.body.data).BUS_URL = 'amqp://rabbit:5672';
      return copy;
    });
    expect(breakIt(() => {}, badBus)).toContainEqual(expect.stringMatching(/config BUS_URL: unsupported/));
    const withoutHpa = objects.filter((o) => !(o.kind === 'HorizontalPodAutoscaler' && o.name === gateway.name));
    expect(breakIt(() => {}, withoutHpa)).toContainEqual(expect.stringMatching(/0 HorizontalPodAutoscalers/));
    const withoutPdb = objects.filter((o) => !(o.kind === 'PodDisruptionBudget' && o.name === gateway.name));
    expect(breakIt(() => {}, withoutPdb)).toContainEqual(expect.stringMatching(/0 PodDisruptionBudgets/));
    const withoutService = objects.filter((o) => !(o.kind === 'Service' && o.name === gateway.name));
    expect(breakIt(() => {}, withoutService)).toContainEqual(expect.stringMatching(/no Service selects/));
  });

  test('the kustomization, Secret and ConfigMap checks fail on a broken copy', () => {
    expect(checkKustomization({ kind: 'Kustomization', resources: files.filter((f) => f !== 'secret.yaml' && f !== KUSTOMIZATION) }, files)).toEqual([
      'kustomization.yaml does not list secret.yaml',
    ]);
    expect(checkKustomization({ kind: 'Kustomization', resources: [...files.filter((f) => f !== KUSTOMIZATION), 'ghost.yaml'] }, files)).toEqual([
      'kustomization.yaml lists ghost.yaml, which does not exist',
    ]);
    const leaked = objects.map((o) => {
      if (o.kind !== 'Secret' && o.kind !== 'ConfigMap') return o;
      const copy = clone(o);
      if (o.kind === 'Secret') dict(copy.body.stringData).IDP_KEK = 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8A';
      else dict(copy.body.data).IDP_KEK = 'anything';
      return copy;
    });
    expect(checkSecretsAndConfig(leaked)).toEqual(
      expect.arrayContaining([expect.stringMatching(/IDP_KEK is not a REPLACE_ME placeholder/), expect.stringMatching(/holds IDP_KEK/)]),
    );
  });
});
