import fc from 'fast-check';
import type { RawRequest } from './raw-http.js';
import { base64url, junkBytes, junkText, jwtLike, percentEncode, tokenLike, wireValue } from './primitives.js';

/**
 * Whole hostile requests for one endpoint: its known parameters with plausible values (so the
 * fuzzer gets past the first check and into the decisions) mixed with junk, in the query or a
 * body of any media type, repeated, mis-encoded, oversized; with junk Authorization, cookies
 * and other headers.
 */

/** A parameter's name and the values worth trying for it (its good values included). */
export type ParamSpace = Record<string, fc.Arbitrary<string>>;

/** Where the parameters travel, and what the body is. */
export type BodyKind = 'none' | 'form' | 'json' | 'bytes' | 'oversized';

export interface EndpointSpace {
  methods: string[];
  /** The path, already encoded (it may carry junk of its own). */
  path: fc.Arbitrary<string>;
  /** Parameters sent in the query. */
  query?: ParamSpace;
  /** Parameters sent in the body, as a form or as JSON members, or replaced by other bodies. */
  body?: ParamSpace;
  /** A valid request's parameters, which most draws mutate a little (in the query and in a form body). */
  baseline?: Record<string, string>;
  bodyKinds?: BodyKind[];
  /** A JSON body of the endpoint's own shape (registration metadata), besides the parameters as JSON. */
  json?: fc.Arbitrary<unknown>;
  /** Good Authorization values: when given, most requests carry one of them, the others junk or none. */
  authorization?: fc.Arbitrary<string>;
  /** Good cookie values by name, mixed into junk Cookie headers. */
  cookies?: Record<string, fc.Arbitrary<string>>;
  /** Good whole Cookie headers: when given, most requests carry one of them, the others junk or none. */
  cookieBaseline?: fc.Arbitrary<string>;
}

const FORM = 'application/x-www-form-urlencoded';
/** The gateway's body limit is 64 KiB; these go past it. */
const OVERSIZED_BYTES = 64 * 1024 + 1;

const contentTypes = (kind: BodyKind): fc.Arbitrary<string | undefined> => {
  const form = [FORM, `${FORM}; charset=utf-8`, `${FORM};charset=ISO-8859-1`, 'APPLICATION/X-WWW-FORM-URLENCODED', `${FORM}, application/json`];
  const json = ['application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/jwt', 'application/json-patch+json'];
  const other = ['text/plain', 'multipart/form-data; boundary=x', 'application/octet-stream', '', ';', 'application/', '*/*', 'application/x-www-form-urlencodedjunk'];
  const preferred = kind === 'form' ? form : kind === 'json' ? json : other;
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(preferred[0]!) },
    { weight: 4, arbitrary: fc.constantFrom(...preferred) },
    { weight: 1, arbitrary: fc.constantFrom(...form, ...json, ...other) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: junkText.map((t) => t.replace(/[\r\n]/g, '')) },
  );
};

const encodedPair = (name: string, value: fc.Arbitrary<string>): fc.Arbitrary<[Buffer, Buffer]> =>
  fc
    .tuple(value, fc.nat(9))
    // One value in ten is written raw (broken escapes, bytes that are not UTF-8).
    .chain(([text, style]) => (style === 0 ? wireValue(fc.constant(text)) : fc.constant(Buffer.from(percentEncode(text), 'latin1'))))
    .map((encoded): [Buffer, Buffer] => [Buffer.from(percentEncode(name), 'latin1'), encoded]);

/** Present once in `oneIn` draws. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

const present = <T>(list: Array<T | undefined>) => list.filter((item): item is T => item !== undefined);

/**
 * Name=value pairs, drawn two ways. Scattered: each known parameter there three times in four,
 * its value one of its own four times in five, else junk. Mutated (when a valid baseline is
 * given, two draws in three): the baseline with one parameter in eight changed, dropped or
 * junk, and now and then another known one added, so that many requests get past the first
 * check and into the decisions. Either way, sometimes unknown parameters and a repeated one.
 */
function pairs(space: ParamSpace, baseline: Record<string, string> = {}): fc.Arbitrary<Array<[Buffer, Buffer]>> {
  const names = Object.keys(space);
  const valueOf = (name: string) => fc.oneof({ weight: 4, arbitrary: space[name] ?? junkText }, { weight: 1, arbitrary: junkText });
  const scattered = fc.tuple(...names.map((name) => fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: encodedPair(name, valueOf(name)) }))).map(present);
  const baseNames = Object.keys(baseline);
  const mutated = fc
    .tuple(
      ...baseNames.map((name) =>
        fc.oneof(
          { weight: 14, arbitrary: encodedPair(name, fc.constant(baseline[name]!)) },
          { weight: 1, arbitrary: encodedPair(name, valueOf(name)) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
      ),
      ...names.filter((name) => !baseNames.includes(name)).map((name) => sometimes(encodedPair(name, valueOf(name)), 10)),
    )
    .map(present);
  const known = baseNames.length > 0 ? fc.oneof({ weight: 1, arbitrary: scattered }, { weight: 2, arbitrary: mutated }) : scattered;
  const unknown = fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(wireValue(junkText), wireValue(junkText)), { minLength: 1, maxLength: 2 }) });
  return fc.tuple(known, unknown, fc.nat(7)).map(([k, u, repeat]) => {
    const all = [...k, ...u];
    // One request in eight repeats a parameter (RFC 6749 §3.1: parameters must not be).
    if (repeat === 0 && all.length > 0) all.push(all[0]!);
    return all;
  });
}

const joinPairs = (list: Array<[Buffer, Buffer]>, valueless: boolean) =>
  Buffer.concat(list.flatMap(([name, value], i) => [...(i > 0 ? [Buffer.from('&')] : []), name, ...(valueless && value.length === 0 ? [] : [Buffer.from('='), value])]));

function jsonOf(space: ParamSpace): fc.Arbitrary<unknown> {
  const members = Object.fromEntries(
    Object.entries(space).map(([name, value]) => [name, fc.oneof(value, junkText, fc.jsonValue({ maxDepth: 2 }))]),
  );
  return fc.oneof(fc.record(members, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 3 }));
}

interface Body {
  kind: BodyKind;
  bytes?: Buffer;
}

function body(space: EndpointSpace): fc.Arbitrary<Body> {
  const kinds = space.bodyKinds ?? ['none'];
  const params = space.body ?? {};
  return fc.constantFrom(...kinds).chain((kind): fc.Arbitrary<Body> => {
    switch (kind) {
      case 'none':
        return fc.constant({ kind });
      case 'form':
        return fc.tuple(pairs(params, space.baseline), fc.boolean()).map(([list, valueless]) => ({ kind, bytes: joinPairs(list, valueless) }));
      case 'json': {
        const json = space.json ? fc.oneof(space.json, jsonOf(params)) : jsonOf(params);
        return fc.oneof(
          { weight: 5, arbitrary: json.map((value) => ({ kind, bytes: Buffer.from(JSON.stringify(value) ?? 'null') })) },
          // Not quite JSON: cut short, or with bytes that are not UTF-8 inside a string.
          { weight: 1, arbitrary: fc.tuple(json, fc.nat()).map(([value, cut]) => { const text = JSON.stringify(value) ?? ''; return { kind, bytes: Buffer.from(text.slice(0, text.length === 0 ? 0 : cut % text.length)) }; }) },
          { weight: 1, arbitrary: junkBytes.map((bytes) => ({ kind, bytes: Buffer.concat([Buffer.from('{"a":"'), bytes, Buffer.from('"}')]) })) },
          { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '[', '{"a":1,"a":2}', '1e999', '"\\ud800"').map((t) => ({ kind, bytes: Buffer.from(t) })) },
        );
      }
      case 'bytes':
        return fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind, bytes: Buffer.from(bytes) }));
      case 'oversized':
        return fc.constantFrom('a=', '{"a":"', 'x').map((prefix) => ({ kind, bytes: Buffer.concat([Buffer.from(prefix), Buffer.alloc(OVERSIZED_BYTES, 0x61)]) }));
    }
  });
}

const headerSafe = (value: string | Buffer) => {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  // CR and LF would end the header; everything else (NUL, other controls, bytes over 0x7F) is sent.
  return Buffer.from(bytes.filter((byte) => byte !== 0x0d && byte !== 0x0a));
};

/** Authorization headers: good ones, Basic with junk base64 or junk credentials, Bearer junk, other schemes. */
function authorization(good?: fc.Arbitrary<string>): fc.Arbitrary<string | Buffer> {
  const credential = fc.oneof(junkText, fc.constantFrom('demo', 'a:b', ':', '%', '%ZZ'));
  return fc.oneof(
    ...(good ? [{ weight: 4, arbitrary: good }] : []),
    { weight: 2, arbitrary: fc.tuple(credential, credential).map(([id, secret]) => `Basic ${Buffer.from(`${percentEncode(id)}:${secret}`).toString('base64')}`) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 48 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`) },
    { weight: 1, arbitrary: junkText.map((t) => `Basic ${t}`) },
    { weight: 2, arbitrary: tokenLike.map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: fc.constantFrom('Basic', 'Bearer', 'Bearer ', 'bearer  x', 'BASIC Og==', 'Basic ====', 'DPoP x', 'Negotiate x', ' ') },
    { weight: 1, arbitrary: junkBytes },
  );
}

const COOKIE_NAMES = ['idp_session', 'idp_authz', '__Host-idp_session', '__Host-idp_authz'];

/** A Cookie header: our cookie names (and others) with good or junk values, repeated, malformed. */
function cookieHeader(good: Record<string, fc.Arbitrary<string>> = {}): fc.Arbitrary<string | Buffer> {
  const value = (name: string) =>
    fc.oneof(
      ...(good[name] ? [{ weight: 3, arbitrary: good[name]! }] : []),
      { weight: 2, arbitrary: tokenLike },
      { weight: 1, arbitrary: junkText.map(percentEncode) },
      { weight: 1, arbitrary: fc.constantFrom('', '"', '""', 'a;b', 'x'.repeat(5000), '%', '%ZZ') },
    );
  const pair = fc.constantFrom(...COOKIE_NAMES, ...Object.keys(good), 'other').chain((name) => value(name).map((v) => `${name}=${v}`));
  return fc.oneof(
    { weight: 5, arbitrary: fc.array(pair, { minLength: 1, maxLength: 4 }).map((list) => list.join('; ')) },
    { weight: 1, arbitrary: junkBytes },
    { weight: 1, arbitrary: junkText },
  );
}

/** The other headers a request carries: language, tracing, forwarding, origin, encodings, and sheer size. */
const otherHeaders: fc.Arbitrary<Array<[string, string | Buffer]>> = fc
  .record({
    'Accept-Language': sometimes(fc.oneof(junkText, fc.constantFrom('de', 'fr-CA;q=0.9, en;q=0.1', '*', 'de;q=x', 'q=1', ';;;', ',,,', 'zz-ZZZZ-1234', 'de,'.repeat(3000))), 3),
    traceparent: sometimes(fc.oneof(junkText, fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')), 6),
    'X-Forwarded-For': sometimes(fc.oneof(junkText, fc.constantFrom('1.2.3.4', '::1, 10.0.0.1', 'unknown')), 8),
    Origin: sometimes(fc.oneof(junkText, fc.constantFrom('https://evil.example', 'null')), 8),
    Accept: sometimes(fc.oneof(junkText, fc.constantFrom('application/json', 'text/html', '*/*;q=0')), 8),
    'Content-Encoding': sometimes(fc.constantFrom('gzip', 'br', 'identity', 'deflate, gzip', 'junk'), 12),
    'Transfer-Encoding': sometimes(fc.constantFrom('gzip', 'identity', 'junk'), 30),
    'X-Huge': sometimes(fc.integer({ min: 8_000, max: 40_000 }).map((n) => 'h'.repeat(n)), 20),
    'Access-Control-Request-Method': sometimes(fc.constantFrom('POST', 'DELETE', 'junk'), 12),
    [`X-Junk`]: sometimes(junkBytes, 10),
  })
  .map((record) => Object.entries(record).filter((entry): entry is [string, string | Buffer] => entry[1] !== undefined));

/** A path with junk appended, percent-encoded or raw. */
export const junkPathSegment: fc.Arbitrary<string> = fc.oneof(
  junkText.map(percentEncode),
  fc.constantFrom('', '%', '%ZZ', '%2F..%2F', '..', '.', '%00', '%C0%AF', '%FF', ';x', '?', '#', '//', 'a'.repeat(3000)),
);

/** A good value two times in three when there is one, else junk or nothing (half and half). */
const preferred = (good: fc.Arbitrary<string> | undefined, junk: fc.Arbitrary<string | Buffer>): fc.Arbitrary<string | Buffer | undefined> =>
  good === undefined
    ? fc.option(junk, { freq: 2, nil: undefined })
    : fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: junk }, { weight: 1, arbitrary: fc.constant(undefined) });

/** Hostile requests for one endpoint. */
export function requestsFor(space: EndpointSpace): fc.Arbitrary<RawRequest> {
  return fc
    .record({
      method: fc.constantFrom(...space.methods),
      path: space.path,
      query: space.query ? fc.option(fc.tuple(pairs(space.query, space.baseline), fc.boolean()), { freq: 6, nil: undefined }) : fc.constant(undefined),
      body: body(space).chain((b) => contentTypes(b.kind).map((contentType) => ({ ...b, contentType }))),
      authorization: preferred(space.authorization, authorization(space.authorization)),
      cookie: preferred(space.cookieBaseline, cookieHeader(space.cookies)),
      others: otherHeaders,
      repeatHeader: fc.nat(9),
    })
    .map((r) => {
      const target = r.query ? Buffer.concat([Buffer.from(r.path, 'latin1'), Buffer.from('?'), joinPairs(...r.query)]) : Buffer.from(r.path, 'latin1');
      const headers: Array<[string, string]> = [];
      // Latin-1 strings: the bytes as sent, and readable in a counterexample.
      const add = (name: string, value: string | Buffer) => headers.push([name, headerSafe(value).toString('latin1')]);
      if (r.authorization !== undefined) add('Authorization', r.authorization);
      if (r.cookie !== undefined) add('Cookie', r.cookie);
      if (r.body.bytes !== undefined && r.body.contentType !== undefined) add('Content-Type', r.body.contentType);
      for (const [name, value] of r.others) add(name, value);
      // A header sent twice (two Authorizations, two Content-Types, two Cookies).
      if (r.repeatHeader === 0 && headers.length > 0) headers.push(headers[0]!);
      const request: RawRequest = { method: r.method, target: target.toString('latin1'), headers };
      if (r.body.bytes !== undefined) request.body = r.body.bytes.toString('latin1');
      return request;
    });
}

export { base64url, jwtLike, junkText, tokenLike };
