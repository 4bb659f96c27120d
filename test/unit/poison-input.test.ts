import { ConsentEvent } from '../../contracts/events/consent.js';
import { RequestContext } from '../../contracts/events/metadata.js';
import { GetClient } from '../../contracts/messages/client-registry.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { findIllFormedText } from '../../contracts/well-formed-text.js';
import { serve } from '../../infra/bus/typed.js';
import { InMemoryEventStore } from '../../infra/event-store/memory.js';
import { SqliteEventStore } from '../../infra/event-store/sqlite.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { consentDecider } from '../../services/authn/domain/consent/consent.js';
import { handleCommand } from '../../services/shared/app/command-handler.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Nothing the contract rejects reaches the log (issue 7, item 2): a malformed context or text
 * that the canonical JSON of the hash cannot hold is refused with an OAuth error before anything
 * is appended, at the bus edge and, should a caller bypass it, in the command handler itself.
 */
const LONE = '\ud800';
const goodCtx: RequestContext = { tenant: 'acme', correlationId: 'c-1', causationId: null, actor: { kind: 'user', id: 'u-1' } };

describe('findIllFormedText', () => {
  it('finds lone surrogates in strings and keys, at any depth, and accepts paired ones', () => {
    expect(findIllFormedText({ a: ['ok', { b: `x${LONE}` }] })).toBe('$.a[1].b');
    expect(findIllFormedText({ [`k${LONE}`]: 1 })).toBe('$[key]');
    expect(findIllFormedText('\udc00')).toBe('$');
    expect(findIllFormedText({ emoji: '\ud83d\ude00', n: 1, z: null, t: true })).toBeUndefined();
  });
});

describe('RequestContext shares the metadata schema', () => {
  it.each([
    ['a malformed traceparent', { ...goodCtx, traceparent: 'not-a-traceparent' }],
    ['an upper-case traceparent', { ...goodCtx, traceparent: '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01' }],
    ['an empty actor id', { ...goodCtx, actor: { kind: 'user', id: '' } }],
    ['an oversized actor id', { ...goodCtx, actor: { kind: 'user', id: 'x'.repeat(257) } }],
    ['a bad tenant', { ...goodCtx, tenant: 'Acme' }],
  ])('refuses %s', (_name, ctx) => {
    expect(RequestContext.safeParse(ctx).success).toBe(false);
  });
});

describe('the bus edge (serve)', () => {
  let handled = 0;
  let unexpectedFailures = 0;
  const handler = async () => {
    handled++;
    return { client: null };
  };
  const unexpected = () => void unexpectedFailures++;
  beforeEach(() => {
    handled = 0;
    unexpectedFailures = 0;
  });

  it('answers invalid_request to a context with a malformed traceparent, without running the handler', async () => {
    const reply = await serve(GetClient, { ctx: { ...goodCtx, traceparent: 'garbage' }, clientId: 'c' }, handler, unexpected);
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(handled).toBe(0);
  });

  it('answers invalid_request to a lone surrogate anywhere in the payload', async () => {
    const reply = await serve(GetClient, { ctx: goodCtx, clientId: `c${LONE}` }, handler, unexpected);
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(handled).toBe(0);
    expect(unexpectedFailures).toBe(0);
  });

  it('serves a well-formed request', async () => {
    const reply = await serve(GetClient, { ctx: goodCtx, clientId: 'c-\ud83d\ude00' }, handler, unexpected);
    expect(reply).toEqual({ ok: true, value: { client: null } });
  });
});

describe.each([
  ['memory', async () => ({ store: new InMemoryEventStore() as EventStore, cleanup: () => {} })],
  [
    'sqlite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-poison-'));
      return { store: SqliteEventStore.open(path.join(dir, 'log.db')) as EventStore, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  ],
])('the command handler, bypassing the bus (%s store)', (_name, open) => {
  let store: EventStore;
  let cleanup: () => void;
  beforeEach(async () => ({ store, cleanup } = await open()));
  afterEach(async () => {
    await store.close();
    cleanup();
  });

  const run = (ctx: RequestContext, clientId = 'client-1') =>
    handleCommand(
      { store, service: 'authn' },
      {
        streamName: 'consent-acme-u-1.client-1',
        decider: consentDecider,
        schema: ConsentEvent,
        command: { type: 'grant_consent' as const, sub: 'u-1', clientId, scopes: ['openid'] },
        ctx,
      },
    );

  it('refuses a context whose traceparent the metadata schema rejects, and appends nothing', async () => {
    const error = await run({ ...goodCtx, traceparent: 'garbage' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe('invalid_request');
    expect(await store.readAll()).toEqual([]);
  });

  it('refuses text the canonical JSON cannot hold with invalid_request, never a 500, and appends nothing', async () => {
    const error = await run(goodCtx, `client${LONE}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe('invalid_request');
    expect(await store.readAll()).toEqual([]);
  });

  it('still appends a well-formed command afterwards', async () => {
    await run(goodCtx);
    expect(await store.readAll()).toHaveLength(1);
  });
});
