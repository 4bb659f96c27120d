import { z } from 'zod';
import { DomainEvent, PUBLISHED_DATA, SealedJson, eventVersionKey, publishedData } from '../../contracts/events/index.js';

/**
 * The live stream's allow-list (contracts/events/published.ts) against every event schema: each
 * type and version has one, it decides every field, and it never lets out a secret's hash, key
 * material or a sealed blob.
 */
interface EventSchemaAtVersion {
  key: string;
  data: z.ZodObject;
}

/** Every `{ type, schemaVersion, data }` object schema of a (nested) union. */
function eventSchemas(schema: z.ZodType): EventSchemaAtVersion[] {
  if (schema instanceof z.ZodUnion || schema instanceof z.ZodDiscriminatedUnion) {
    return (schema.options as z.ZodType[]).flatMap(eventSchemas);
  }
  if (!(schema instanceof z.ZodObject)) throw new Error('an event schema is an object or a union of them');
  const { type, schemaVersion, data } = schema.shape as { type: z.ZodLiteral; schemaVersion: z.ZodLiteral; data: z.ZodObject };
  return [{ key: eventVersionKey(String(type.value), Number(schemaVersion.value)), data }];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  return s;
}

type Decisions = { readonly [field: string]: boolean | Decisions };
const allowList = PUBLISHED_DATA as unknown as Record<string, Decisions>;

/** Paths of the schema's fields the decisions leave undecided, or decide that do not exist. */
function undecided(shape: z.ZodObject, decisions: Decisions, at: string): string[] {
  const fields = Object.keys(shape.shape);
  const missing = fields.filter((f) => !Object.hasOwn(decisions, f)).map((f) => `${at}.${f} (undecided)`);
  const extra = Object.keys(decisions).filter((f) => !fields.includes(f)).map((f) => `${at}.${f} (no such field)`);
  const nested = fields.flatMap((f) => {
    const decision = decisions[f];
    const inner = unwrap(shape.shape[f] as z.ZodType);
    if (typeof decision !== 'object') return [];
    if (!(inner instanceof z.ZodObject)) return [`${at}.${f} (decided field by field, but not an object)`];
    return undecided(inner, decision, `${at}.${f}`);
  });
  return [...missing, ...extra, ...nested];
}

/** A field that is a secret's hash, key material or sealed: by its name or by its schema. */
function isSecret(name: string, schema: z.ZodType): boolean {
  const inner = unwrap(schema);
  const sealed = inner instanceof z.ZodObject && Object.keys(inner.shape).sort().join() === Object.keys(SealedJson.shape).sort().join();
  const argon2 = inner instanceof z.ZodString && JSON.stringify(inner.def).includes('$argon2id$');
  return sealed || argon2 || /hash$|jwk$|digest$|^profile$/i.test(name);
}

/** Paths of published fields (also inside a field published whole) that are secrets. */
function publishedSecrets(shape: z.ZodObject, decisions: Decisions | true, at: string): string[] {
  return Object.entries(shape.shape as Record<string, z.ZodType>).flatMap(([f, schema]) => {
    const decision = decisions === true ? true : decisions[f];
    if (!decision) return [];
    const inner = unwrap(schema);
    const here = isSecret(f, schema) ? [`${at}.${f}`] : [];
    const below = inner instanceof z.ZodObject ? publishedSecrets(inner, decision, `${at}.${f}`) : [];
    return [...here, ...below];
  });
}

const schemas = eventSchemas(DomainEvent);

describe('the live stream allow-list (contracts/events/published.ts)', () => {
  it('covers every event type and schema version, and nothing else', () => {
    expect(schemas.length).toBeGreaterThan(30);
    expect(schemas.map((s) => s.key).filter((key) => !Object.hasOwn(allowList, key))).toEqual([]);
    expect(Object.keys(allowList).filter((key) => !schemas.some((s) => s.key === key))).toEqual([]);
  });

  it('decides every field of every event, nested objects field by field, and names no field an event lacks', () => {
    expect(schemas.flatMap((s) => undecided(s.data, allowList[s.key] ?? {}, s.key))).toEqual([]);
  });

  it('publishes no hash of a secret, no key material, no sealed blob and no username digest', () => {
    expect(schemas.flatMap((s) => publishedSecrets(s.data, allowList[s.key] ?? {}, s.key))).toEqual([]);
  });

  it('the secret detector finds the secrets there are (so the test above can fail)', () => {
    const withheld = schemas.flatMap((s) => publishedSecrets(s.data, true, s.key));
    for (const path of [
      'user.registered@1.passwordHash',
      'user.registered@1.profile',
      'user.password_rehashed@1.passwordHash',
      'user.registered@2.sealedPasswordHash',
      'user.registered@2.profile',
      'user.password_rehashed@2.sealedPasswordHash',
      'client.registered@3.secretHash',
      'client.registered@3.registrationAccessTokenHash',
      'client.secret_rotated@1.secretHash',
      'session.started@1.secretHash',
      'authorization_code.issued@2.codeHash',
      'authorization_code.issued@2.frontChannel.accessToken.accessTokenIdHash',
      'tokens.issued@2.refreshToken.tokenHash',
      'refresh_token.rotated@1.successor.tokenHash',
      'signing_key.generated@1.privateJwk',
      'signing_key.generated@2.privateJwk',
      'signing_key.generated@2.publicJwk',
    ]) {
      expect(withheld).toContain(path);
    }
  });

  it('projects an event onto its allow-list, nested objects included, dropping fields it does not name', () => {
    const hash = 'a'.repeat(64);
    expect(
      publishedData({
        type: 'user.registered',
        schemaVersion: 1,
        data: { sub: 'u1', usernameDigest: hash, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', profile: { alg: 'A256GCM', iv: 'i', ct: 'c', tag: 't' }, planted: 'x' },
      }),
    ).toStrictEqual({ data: { sub: 'u1' }, redacted: true });
    const sealed = { alg: 'A256GCM', iv: 'i', ct: 'c', tag: 't' };
    expect(
      publishedData({ type: 'user.registered', schemaVersion: 2, data: { sub: 'u1', usernameDigest: hash, sealedPasswordHash: sealed, profile: sealed } }),
    ).toStrictEqual({ data: { sub: 'u1' }, redacted: true });
    expect(publishedData({ type: 'user.password_rehashed', schemaVersion: 2, data: { sub: 'u1', sealedPasswordHash: sealed } })).toStrictEqual({
      data: { sub: 'u1' },
      redacted: true,
    });
    const refreshToken = { tokenHash: hash, issuedAt: 'T1', idleExpiresAt: 'T2', absoluteExpiresAt: 'T3' };
    const tokens = { grantId: 'g', clientId: 'c', sub: 's', scope: 'openid', accessTokenIdHash: hash, accessTokenExpiresAt: 'T4', idTokenIssued: true };
    expect(publishedData({ type: 'tokens.issued', schemaVersion: 2, data: { ...tokens, refreshToken } }).data).toStrictEqual({
      grantId: 'g',
      clientId: 'c',
      sub: 's',
      scope: 'openid',
      accessTokenExpiresAt: 'T4',
      idTokenIssued: true,
      refreshToken: { issuedAt: 'T1', idleExpiresAt: 'T2', absoluteExpiresAt: 'T3' },
    });
    expect(publishedData({ type: 'tokens.issued', schemaVersion: 2, data: { ...tokens, refreshToken: null } }).data).toMatchObject({ refreshToken: null });
    // A value that should be an object and is not (a string smuggling a hash) is dropped.
    expect(publishedData({ type: 'tokens.issued', schemaVersion: 2, data: { ...tokens, refreshToken: hash } }).data).not.toHaveProperty('refreshToken');
  });

  it('an event published whole is not marked redacted', () => {
    expect(publishedData({ type: 'consent.granted', schemaVersion: 1, data: { sub: 's', clientId: 'c', scopes: ['openid'] } })).toStrictEqual({
      data: { sub: 's', clientId: 'c', scopes: ['openid'] },
      redacted: false,
    });
  });

  it('fails closed: an unknown type, an unknown version, or a key of the prototype gets no data at all', () => {
    const data = { sub: 'u1', passwordHash: '$argon2id$...' };
    expect(publishedData({ type: 'user.registered', schemaVersion: 9, data })).toStrictEqual({ redacted: true });
    expect(publishedData({ type: 'user.imported', schemaVersion: 1, data })).toStrictEqual({ redacted: true });
    expect(publishedData({ type: 'constructor', schemaVersion: 1, data })).toStrictEqual({ redacted: true });
    expect(publishedData({ type: 'consent.granted', schemaVersion: 1, data: 'not an object' })).toStrictEqual({ redacted: true });
  });
});
