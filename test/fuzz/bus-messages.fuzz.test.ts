import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { z } from 'zod';
import type { RequestContext } from '../../contracts/events/metadata.js';
import { replySchema, type MessageContract } from '../../contracts/messages/define.js';
import { ALL_MESSAGES } from '../../contracts/messages/index.js';
import { createLogger } from '../../infra/log/logger.js';
import { loadEmbeddedConfig } from '../../services/embedded/config.js';
import { startEmbeddedServer, type EmbeddedServer } from '../../services/embedded/embedded-server.js';
import { openLogReadOnly, type LogPosition } from '../support/fuzz/log-position.js';
import { junkText, tokenLike } from '../support/fuzz/primitives.js';

/**
 * Fuzzing the services' bus edge (issue 10, "Fuzzing"): random JSON, and requests of each
 * contract's own shape with random members, sent to every message of ALL_MESSAGES through the
 * in-process bus of a real embedded server (all services, SQLite log). Whatever arrives, the
 * service answers (nothing thrown at the caller), the answer is a well-formed reply of the
 * contract, a refusal is an OAuth error other than `server_error` (an unexpected failure), and
 * a refusal appends nothing to the log.
 */
const SEED = process.env.FUZZ_SEED === undefined ? 0xb05 : Number(process.env.FUZZ_SEED);
const RUNS_PER_MESSAGE = Math.max(1, Math.round(150 * (process.env.FUZZ_RUNS === undefined ? 1 : Number(process.env.FUZZ_RUNS))));

let server: EmbeddedServer;
let log: LogPosition;
let dataDir: string;
const unexpected: string[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-bus-fuzz-'));
  const config = loadEmbeddedConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    EVENT_STORE_URL: `sqlite:${path.join(dataDir, 'idp.db')}`,
    IDP_DATA_DIR: dataDir,
    IDP_ARGON2_MEMORY_KIB: '8192',
    IDP_ARGON2_TIME_COST: '1',
  });
  // Error lines (an unexpected failure behind a server_error) are kept to show with a counterexample.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = chunk.toString('utf8');
      if (/"level":(50|60)/.test(line)) unexpected.push(line);
      done();
    },
  });
  server = await startEmbeddedServer(config, createLogger({ level: 'error' }, sink));
  log = openLogReadOnly(path.join(dataDir, 'idp.db'));
}, 60_000);

afterAll(async () => {
  log?.close();
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

const goodCtx = (): RequestContext => ({ tenant: 'default', correlationId: 'fuzz', causationId: null, actor: { kind: 'system', id: 'fuzz' } });

/** A member's value: plausible strings and shapes, or any JSON at all. */
const memberValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: junkText },
  { weight: 2, arbitrary: tokenLike },
  { weight: 2, arbitrary: fc.constantFrom('demo', 'default', 'openid', 'openid profile', 'authorization_code', 'refresh_token', 'code', 'S256', 'https://rp.example/cb') },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1e308, [], {}, { __proto__: { x: 1 } }) },
);

/** Random JSON, or an object of the contract's request members (a real context, or a junk one) with random values. */
function payloads(contract: MessageContract<string, z.ZodType, z.ZodType>): fc.Arbitrary<unknown> {
  const shape = (contract.request as unknown as z.ZodObject<z.ZodRawShape>).shape;
  const members = Object.fromEntries(Object.keys(shape).filter((key) => key !== 'ctx').map((key) => [key, memberValue]));
  const ctx = fc.oneof({ weight: 4, arbitrary: fc.constant(goodCtx()) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
  return fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 4, arbitrary: fc.tuple(ctx, fc.record(members, { requiredKeys: [] })).map(([c, rest]) => ({ ...rest, ctx: c })) },
  );
}

describe('fuzzing the bus edge of every service', () => {
  test.each(ALL_MESSAGES.map((contract) => [contract.subject, contract] as const))(
    '%s: any payload gets a well-formed reply; a refusal is not server_error and appends nothing',
    async (_subject, contract) => {
      const replies = replySchema(contract.reply);
      const property = fc.asyncProperty(payloads(contract), async (payload) => {
        const before = log.last();
        const errorsBefore = unexpected.length;
        let raw: unknown;
        try {
          raw = await server.bus.request(contract.subject, payload, { timeoutMs: 30_000 });
        } catch (error) {
          throw new Error(`the bus request threw ${String(error)}\n${unexpected.slice(errorsBefore).join('')}`);
        }
        const reply = replies.safeParse(raw);
        if (!reply.success) throw new Error(`not a well-formed reply: ${JSON.stringify(raw)?.slice(0, 500)}`);
        const answer = reply.data as { ok: true } | { ok: false; error: { code: string } };
        if (answer.ok) return;
        if (answer.error.code === 'server_error') throw new Error(`server_error\n${unexpected.slice(errorsBefore).join('')}`);
        const appended = log.typesAfter(before);
        if (appended.length > 0) throw new Error(`a refusal (${answer.error.code}) appended ${appended.join(', ')}`);
      });
      try {
        await fc.assert(property, { seed: SEED, numRuns: RUNS_PER_MESSAGE });
      } catch (error) {
        console.error(`bus fuzz failure at ${contract.subject}: rerun with FUZZ_SEED=${SEED}`);
        throw error;
      }
    },
    120_000,
  );
});
