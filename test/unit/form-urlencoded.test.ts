import { decodeFormUrlencoded, decodeUtf8Body } from '../../services/gateway/app/form-urlencoded.js';
import { parseFormWithRepeats } from '../../services/gateway/app/form.js';
import { OAuthError } from '../../contracts/oauth-error.js';

/**
 * The gateway's body decoding (RFC 6749 Appendix B, WHATWG application/x-www-form-urlencoded)
 * and the back-channel form rules on top of it (RFC 6749 §3.1: no repeated parameter but
 * `resource`, RFC 8707 §2), as a table: what a body reads as, or that it is refused.
 */
const bytes = (text: string) => new TextEncoder().encode(text);
const FORM = 'application/x-www-form-urlencoded';

describe('decodeFormUrlencoded', () => {
  it.each<[string, Uint8Array, Record<string, string | string[]>]>([
    ['plain pairs', bytes('grant_type=client_credentials&scope=a'), { grant_type: 'client_credentials', scope: 'a' }],
    ['+ is a space, %20 too', bytes('scope=openid+profile%20email'), { scope: 'openid profile email' }],
    ['percent-encoded UTF-8', bytes('name=%C3%A9%E2%82%AC%F0%9F%98%80'), { name: 'é€😀' }],
    ['raw UTF-8', bytes('name=é€'), { name: 'é€' }],
    ['an encoded & and = stay in the value', bytes('code=a%26b%3Dc'), { code: 'a&b=c' }],
    ['a second = belongs to the value', bytes('code=a=b'), { code: 'a=b' }],
    ['a name without = has an empty value', bytes('flag&x=1'), { flag: '', x: '1' }],
    ['empty pairs are skipped', bytes('&&a=1&&'), { a: '1' }],
    ['a repeated name gives its values in order', bytes('resource=a&resource=b&resource=c'), { resource: ['a', 'b', 'c'] }],
    ['an empty body is an empty form', bytes(''), {}],
    ['encoded names decode too', bytes('client%5Fid=x'), { client_id: 'x' }],
  ])('%s', (_name, body, expected) => {
    expect({ ...decodeFormUrlencoded(body) }).toEqual(expected);
  });

  it.each<[string, Uint8Array]>([
    ['% without two hex digits', bytes('a=%ZZ')],
    ['% at the end', bytes('a=%')],
    ['a truncated escape', bytes('a=%E')],
    ['a truncated UTF-8 sequence', bytes('a=%E2%82')],
    ['bytes that are not UTF-8', bytes('a=%FF%FE')],
    ['an overlong encoding of /', bytes('a=%C0%AF')],
    ['a UTF-16 surrogate encoded as UTF-8', bytes('a=%ED%A0%80')],
    ['raw bytes that are not UTF-8', Uint8Array.of(0x61, 0x3d, 0xff)],
    ['a raw overlong sequence', Uint8Array.of(0x61, 0x3d, 0xc0, 0xaf)],
    ['a broken name', bytes('%ZZ=1')],
    ['a __proto__ name', bytes('__proto__=x')],
    ['an encoded __proto__ name', bytes('%5F%5Fproto%5F%5F=x')],
  ])('refuses %s with invalid_request', (_name, body) => {
    expect(() => decodeFormUrlencoded(body)).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400 }) as unknown as OAuthError);
  });

  it('returns an object without a prototype, so no name reaches Object.prototype', () => {
    const form = decodeFormUrlencoded(bytes('constructor=x&toString=y'));
    expect(Object.getPrototypeOf(form)).toBeNull();
    expect(form.constructor).toBe('x');
  });
});

describe('decodeUtf8Body', () => {
  it('reads well-formed UTF-8 and refuses anything else', () => {
    expect(decodeUtf8Body(bytes('{"a":"é"}'))).toBe('{"a":"é"}');
    expect(() => decodeUtf8Body(Uint8Array.of(0x7b, 0xff, 0x7d))).toThrow(OAuthError);
  });
});

describe('parseFormWithRepeats (the back-channel rules on a decoded form)', () => {
  const parse = (text: string, contentType = FORM) => parseFormWithRepeats(contentType, decodeFormUrlencoded(bytes(text)), 'token');

  it.each<[string, string, { form: Record<string, string>; repeated: { resource: string[] } }]>([
    ['single parameters', 'grant_type=client_credentials&scope=a', { form: { grant_type: 'client_credentials', scope: 'a' }, repeated: { resource: [] } }],
    ['resource may repeat (RFC 8707)', 'grant_type=x&resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb', { form: { grant_type: 'x' }, repeated: { resource: ['https://a', 'https://b'] } }],
    ['an empty resource is an absent one', 'grant_type=x&resource=', { form: { grant_type: 'x' }, repeated: { resource: [] } }],
    ['a content type with parameters', 'grant_type=x', { form: { grant_type: 'x' }, repeated: { resource: [] } }],
  ])('%s', (_name, text, expected) => {
    expect(parse(text, `${FORM}; charset=UTF-8`)).toEqual(expected);
  });

  it.each<[string, string, string]>([
    ['a repeated grant_type', 'grant_type=a&grant_type=a', FORM],
    ['a repeated client_id', 'grant_type=a&client_id=x&client_id=y', FORM],
    ['another media type', 'grant_type=a', 'application/json'],
    ['no media type', 'grant_type=a', ''],
  ])('refuses %s with invalid_request', (_name, text, contentType) => {
    expect(() => parse(text, contentType)).toThrow(expect.objectContaining({ code: 'invalid_request' }) as unknown as OAuthError);
  });
});
