import { randomBytes, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { DomainEvent, EventMetadata, type Actor, type ServiceName } from '../../../contracts/events/index.js';
import { SqliteEventStore } from '../../../infra/event-store/sqlite.js';
import { eventHashV2, genesisHash } from '../../../services/shared/app/event-hash.js';
import { FLOWS_PER_1000, INITIAL_USERS, MACHINE_CLIENTS, RELYING_PARTIES, SPAN_MS, type FlowKind } from './traffic-mix.js';

/**
 * Writes a realistic log of `events` events into a new SQLite file: the flows of traffic-mix.ts
 * in their proportions, each event in the very shape (type, schema version, data, metadata) the
 * services write, checked against the contracts' schemas the first time a type appears, chained
 * and hashed with the command handler's hash (version 2), so `idp verify` passes. Rows go in
 * with one prepared INSERT inside transactions of 20,000: generation speed is not what is
 * measured.
 */

const TENANT = 'default';
const HOUR = 3600_000;
const BATCH = 20_000;

/** A small deterministic PRNG (mulberry32): the same log shape on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (bytes = 32) => randomBytes(bytes).toString('hex');
const b64url = (bytes: number) => randomBytes(bytes).toString('base64url');
const iso = (ms: number) => new Date(ms).toISOString();
const sealed = (plainBytes: number) => ({ alg: 'A256GCM' as const, iv: b64url(12), ct: b64url(plainBytes), tag: b64url(16) });

interface Grant {
  grantId: string;
  clientId: string;
  sub: string;
  generation: number;
}

export interface GeneratedLog {
  events: number;
  flows: Record<FlowKind, number>;
  eventsByType: Record<string, number>;
  seconds: number;
}

export async function generateLog(file: string, events: number, onProgress?: (written: number) => void): Promise<GeneratedLog> {
  // The schema, as the server creates it; then rows straight in, in big transactions.
  await SqliteEventStore.open(file, { synchronous: 'normal' }).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    'INSERT INTO events (stream_name, stream_index, type, schema_version, data, metadata, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const started = Date.now();
  const random = prng(11);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const streams = new Map<string, { index: number; hash: string }>();
  const validated = new Set<string>();
  const eventsByType: Record<string, number> = {};
  const flows = Object.fromEntries(Object.keys(FLOWS_PER_1000).map((k) => [k, 0])) as Record<FlowKind, number>;
  let rows: unknown[][] = [];
  let written = 0;
  const flush = db.transaction((batch: unknown[][]) => {
    for (const row of batch) insert.run(...row);
  });

  const end = Date.now();
  const startTime = end - SPAN_MS;
  let now = startTime;

  const append = (streamName: string, type: string, schemaVersion: number, data: unknown, who: { actor: Actor; service: ServiceName; correlationId: string }) => {
    const previous = streams.get(streamName);
    const streamIndex = previous === undefined ? 0 : previous.index + 1;
    const metadata: EventMetadata = {
      eventId: uuidv7({ msecs: now }),
      time: iso(now),
      tenant: TENANT,
      correlationId: who.correlationId,
      causationId: null,
      actor: who.actor,
      service: who.service,
      previousHash: previous?.hash ?? genesisHash(TENANT),
      hashVersion: 2,
    };
    const key = `${type}@${schemaVersion}`;
    if (!validated.has(key)) {
      DomainEvent.parse({ type, schemaVersion, data });
      EventMetadata.parse(metadata);
      validated.add(key);
    }
    const hash = eventHashV2({ streamName, streamIndex, type, schemaVersion, data, metadata });
    streams.set(streamName, { index: streamIndex, hash });
    rows.push([streamName, streamIndex, type, schemaVersion, JSON.stringify(data), JSON.stringify(metadata), hash]);
    eventsByType[type] = (eventsByType[type] ?? 0) + 1;
    written++;
    if (rows.length >= BATCH) {
      flush(rows);
      rows = [];
      onProgress?.(written);
    }
  };

  const request = (actor: Actor, service: ServiceName) => ({ actor, service, correlationId: uuidv7({ msecs: now }) });
  const system = (id: string): Actor => ({ kind: 'system', id });

  // Clients first, as an operator would have registered them.
  const relyingParties: string[] = [];
  const machines: string[] = [];
  for (let i = 0; i < RELYING_PARTIES + MACHINE_CLIENTS; i++) {
    const clientId = b64url(16);
    const machine = i >= RELYING_PARTIES;
    (machine ? machines : relyingParties).push(clientId);
    const rp = `https://rp-${i}.example.test`;
    append(
      `client-${TENANT}-${clientId}`,
      'client.registered',
      3,
      {
        clientId,
        secretHash: hex(),
        clientName: machine ? `service ${i}` : `relying party ${i}`,
        applicationType: 'web',
        redirectUris: machine ? [] : [`${rp}/callback`],
        grantTypes: machine ? ['client_credentials'] : ['authorization_code', 'refresh_token'],
        responseTypes: machine ? [] : ['code'],
        tokenEndpointAuthMethod: 'client_secret_basic',
        scope: machine ? 'orders:read orders:write' : 'openid profile email offline_access',
        idTokenSignedResponseAlg: 'RS256',
        refreshTokenReuseGraceSeconds: 0,
        postLogoutRedirectUris: machine ? [] : [`${rp}/signed-out`],
        backchannelLogoutUri: null,
        backchannelLogoutSessionRequired: false,
        authorizedBy: 'initial_access_token',
        registrationAccessTokenHash: hex(),
      },
      request(system('registration'), 'client-registry'),
    );
  }

  const users: string[] = [];
  const register = () => {
    const sub = randomUUID();
    const usernameDigest = hex();
    const who = request(system('registration'), 'authn');
    append(`username-${TENANT}-${usernameDigest}`, 'username.claimed', 1, { usernameDigest, sub }, who);
    append(`user-${TENANT}-${sub}`, 'user.registered', 2, { sub, usernameDigest, sealedPasswordHash: sealed(97), profile: sealed(380) }, who);
    users.push(sub);
  };
  for (let i = 0; i < INITIAL_USERS; i++) register();

  /** Live sessions (8 h) and refreshable grants, most recent last. */
  const sessions: Array<{ sessionId: string; sub: string; expiresAt: number; authTime: number }> = [];
  const grants: Grant[] = [];
  const consents = new Set<string>();
  const liveSession = () => {
    while (sessions.length > 0 && sessions[0]!.expiresAt <= now) sessions.shift();
    return sessions.length === 0 ? undefined : sessions[Math.floor(sessions.length * (1 - random() * random()))]!;
  };
  const recentGrant = () => (grants.length === 0 ? undefined : grants[Math.floor(grants.length * (1 - random() * random() * random()))]);

  const login = (sub = pick(users), clientId = pick(relyingParties)) => {
    const who = request({ kind: 'client', id: clientId }, 'authn');
    append(`user-${TENANT}-${sub}`, 'authentication.succeeded', 1, { sub, method: 'pwd', clientId, source: hex() }, who);
    const session = { sessionId: randomUUID(), sub, expiresAt: now + 8 * HOUR, authTime: Math.floor(now / 1000) };
    append(
      `session-${TENANT}-${session.sessionId}`,
      'session.started',
      1,
      { sessionId: session.sessionId, sub, authTime: session.authTime, acr: '0', amr: ['pwd'], secretHash: hex(), expiresAt: iso(session.expiresAt) },
      { ...who, actor: { kind: 'user', id: sub } },
    );
    sessions.push(session);
    return session;
  };

  const code = () => {
    const clientId = pick(relyingParties);
    const session = random() < 0.6 ? (liveSession() ?? login(undefined, clientId)) : login(undefined, clientId);
    const { sub } = session;
    const grantId = randomUUID();
    const scope = 'openid profile email offline_access';
    const asUser = request({ kind: 'user', id: sub }, 'token-issuer');
    if (!consents.has(`${sub}.${clientId}`)) {
      consents.add(`${sub}.${clientId}`);
      append(`consent-${TENANT}-${sub}.${clientId}`, 'consent.granted', 1, { sub, clientId, scopes: scope.split(' ') }, { ...asUser, service: 'authn' });
    }
    append(
      `grant-${TENANT}-${grantId}`,
      'authorization_code.issued',
      2,
      {
        grantId,
        clientId,
        sub,
        sessionId: session.sessionId,
        redirectUri: `https://rp-${relyingParties.indexOf(clientId)}.example.test/callback`,
        scope,
        authTime: session.authTime,
        acr: '0',
        amr: ['pwd'],
        responseType: 'code',
        nonce: b64url(32),
        codeHash: hex(),
        expiresAt: iso(now + 60_000),
        frontChannel: { idTokenIssued: false, accessToken: null },
      },
      asUser,
    );
    now += 400;
    const asClient = request({ kind: 'client', id: clientId }, 'token-issuer');
    append(`grant-${TENANT}-${grantId}`, 'authorization_code.redeemed', 1, { grantId, clientId }, asClient);
    append(
      `grant-${TENANT}-${grantId}`,
      'tokens.issued',
      2,
      {
        grantId,
        clientId,
        sub,
        scope,
        accessTokenIdHash: hex(),
        accessTokenExpiresAt: iso(Math.floor((now + HOUR) / 1000) * 1000),
        refreshToken: { tokenHash: hex(), issuedAt: iso(now), idleExpiresAt: iso(now + 14 * 24 * HOUR), absoluteExpiresAt: iso(now + 30 * 24 * HOUR) },
        idTokenIssued: true,
      },
      asClient,
    );
    grants.push({ grantId, clientId, sub, generation: 0 });
    if (grants.length > 50_000) grants.splice(0, 10_000);
  };

  const refresh = () => {
    const grant = recentGrant();
    if (grant === undefined) return code();
    append(
      `refresh_token-${TENANT}-${grant.grantId}.${grant.generation}`,
      'refresh_token.rotated',
      1,
      {
        grantId: grant.grantId,
        generation: grant.generation,
        clientId: grant.clientId,
        scope: 'openid profile email offline_access',
        accessTokenIdHash: hex(),
        accessTokenExpiresAt: iso(Math.floor((now + HOUR) / 1000) * 1000),
        idTokenIssued: true,
        rotatedAt: iso(now),
        successor: { generation: grant.generation + 1, tokenHash: hex(), idleExpiresAt: iso(now + 14 * 24 * HOUR) },
      },
      request({ kind: 'client', id: grant.clientId }, 'token-issuer'),
    );
    grant.generation++;
  };

  const flow: Record<FlowKind, () => void> = {
    registration: register,
    login: () => void login(),
    code,
    failedLogin: () => {
      const sub = pick(users);
      const clientId = pick(relyingParties);
      append(
        `user-${TENANT}-${sub}`,
        'authentication.failed',
        2,
        { sub, reason: 'invalid_password', clientId, at: iso(now), source: hex() },
        request({ kind: 'client', id: clientId }, 'authn'),
      );
    },
    refresh,
    clientCredentials: () => {
      const clientId = pick(machines);
      const grantId = randomUUID();
      append(
        `grant-${TENANT}-${grantId}`,
        'client_credentials.granted',
        1,
        { grantId, clientId, scope: 'orders:read', audience: ['https://api.example.test'], accessTokenIdHash: hex(), accessTokenExpiresAt: iso(Math.floor((now + HOUR) / 1000) * 1000) },
        request({ kind: 'client', id: clientId }, 'token-issuer'),
      );
    },
    revocation: () => {
      const index = grants.length === 0 ? -1 : Math.floor(random() * grants.length);
      if (index < 0) return code();
      const [grant] = grants.splice(index, 1);
      append(
        `grant-${TENANT}-${grant!.grantId}`,
        'grant.revoked',
        2,
        { grantId: grant!.grantId, reason: random() < 0.9 ? 'revocation_request' : 'refresh_token_reuse' },
        request({ kind: 'client', id: grant!.clientId }, 'token-issuer'),
      );
    },
    logout: () => {
      const session = liveSession();
      if (session === undefined) return login();
      sessions.splice(sessions.indexOf(session), 1);
      const clientId = pick(relyingParties);
      append(
        `session-${TENANT}-${session.sessionId}`,
        'session.ended',
        1,
        { sessionId: session.sessionId, sub: session.sub, reason: 'rp_initiated_logout', clientId },
        request({ kind: 'user', id: session.sub }, 'authn'),
      );
    },
  };

  // One weighted wheel of flows; time advances evenly so the log ends now.
  const wheel: FlowKind[] = (Object.entries(FLOWS_PER_1000) as Array<[FlowKind, number]>).flatMap(([kind, n]) => Array<FlowKind>(n).fill(kind));
  const eventsPerFlow = 1.6;
  const step = (end - now) / Math.max(1, (events - written) / eventsPerFlow);
  while (written < events) {
    now = Math.min(end, now + step * (0.5 + random()));
    const kind = pick(wheel);
    flows[kind]++;
    flow[kind]();
  }
  flush(rows);
  onProgress?.(written);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { events: written, flows, eventsByType, seconds: (Date.now() - started) / 1000 };
}
