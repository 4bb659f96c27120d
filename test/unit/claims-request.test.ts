import {
  CLAIMS_SUPPORTED,
  MAX_CLAIMS_LOCALES,
  MAX_CLAIMS_PARAMETER_LENGTH,
  parseClaimsLocales,
  parseClaimsParameter,
  requestedSubject,
  requestedClaimNames,
  SCOPE_CLAIMS,
} from '../../contracts/claims.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { SUPPORTED_SCOPES, USER_SCOPES } from '../../contracts/scopes.js';

/** OIDC Core §5.4 (scopes to claims) and §5.5 (the claims request parameter). */
describe('claims: scopes to claims (OIDC Core §5.4)', () => {
  it('maps each standard scope to exactly the claims §5.4 lists', () => {
    expect(SCOPE_CLAIMS).toEqual({
      profile: [
        'name',
        'family_name',
        'given_name',
        'middle_name',
        'nickname',
        'preferred_username',
        'profile',
        'picture',
        'website',
        'gender',
        'birthdate',
        'zoneinfo',
        'locale',
        'updated_at',
      ],
      email: ['email', 'email_verified'],
      address: ['address'],
      phone: ['phone_number', 'phone_number_verified'],
    });
  });

  it('address and phone are scopes clients may register and ask for, and speak for a user', () => {
    for (const scope of ['address', 'phone']) {
      expect(SUPPORTED_SCOPES).toContain(scope);
      expect(USER_SCOPES).toContain(scope);
    }
  });

  it('claims_supported names every user claim and the ID token claims', () => {
    for (const claim of Object.values(SCOPE_CLAIMS).flat()) expect(CLAIMS_SUPPORTED).toContain(claim);
    for (const claim of ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr']) expect(CLAIMS_SUPPORTED).toContain(claim);
  });

  it('requestedClaimNames: scope claims first, then individually requested ones, each once', () => {
    expect(requestedClaimNames(['openid', 'email', 'phone'], { email: null, address: { essential: true } })).toEqual([
      'email',
      'email_verified',
      'phone_number',
      'phone_number_verified',
      'address',
    ]);
  });

  it('requestedClaimNames ignores unknown names, ID token claims, unknown scopes and prototype names', () => {
    expect(
      requestedClaimNames(['openid', 'offline_access', 'constructor', '__proto__', 'toString'], {
        acr: { essential: true },
        auth_time: null,
        sub: null,
        'https://example.com/claim': null,
        shoe_size: null,
        hasOwnProperty: null,
        'name#not a tag': null,
        'email#de': null,
      }),
    ).toEqual([]);
  });

  it('requestedClaimNames keeps language-tagged forms of the localizable claims (§5.2)', () => {
    expect(requestedClaimNames([], { 'name#de': null, 'family_name#ja-Kana-JP': null })).toEqual(['name#de', 'family_name#ja-Kana-JP']);
  });
});

describe('claims: the claims request parameter (OIDC Core §5.5)', () => {
  const invalid = (text: string) => {
    try {
      parseClaimsParameter(text);
    } catch (error) {
      expect(error).toBeInstanceOf(OAuthError);
      expect((error as OAuthError).code).toBe('invalid_request');
      expect((error as OAuthError).status).toBe(400);
      return (error as OAuthError).description;
    }
    throw new Error(`expected invalid_request for ${text}`);
  };

  it('reads the §5.5 example: null, essential, value and values, in both members', () => {
    const text = JSON.stringify({
      userinfo: {
        given_name: { essential: true },
        nickname: null,
        email: { essential: true },
        email_verified: { essential: true },
        picture: null,
        'http://example.info/claims/groups': null,
      },
      id_token: {
        auth_time: { essential: true },
        acr: { values: ['urn:mace:incommon:iap:silver'] },
        sub: { value: '248289761001' },
      },
    });
    expect(parseClaimsParameter(text)).toEqual(JSON.parse(text));
  });

  it('an empty object, and a member with no claims, are valid', () => {
    expect(parseClaimsParameter('{}')).toEqual({});
    expect(parseClaimsParameter('{"userinfo":{}}')).toEqual({ userinfo: {} });
  });

  it('members not understood are ignored, at the top and in a claim request (§5.5, §5.5.1)', () => {
    expect(parseClaimsParameter('{"userinfo":{"name":{"essential":false,"purpose":"greeting"}},"future":{"x":1}}')).toEqual({
      userinfo: { name: { essential: false } },
    });
  });

  it('numbers and booleans are values too', () => {
    expect(parseClaimsParameter('{"id_token":{"email_verified":{"value":true},"x":{"values":[1,"2",false]}}}')).toEqual({
      id_token: { email_verified: { value: true }, x: { values: [1, '2', false] } },
    });
  });

  it.each([
    ['not JSON', '{userinfo:'],
    ['empty text', ''],
    ['JSON null', 'null'],
    ['a JSON array', '[]'],
    ['a JSON string', '"userinfo"'],
    ['a JSON number', '5'],
    ['a member that is not an object', '{"userinfo":["email"]}'],
    ['a member that is null', '{"id_token":null}'],
    ['a member that is a string', '{"userinfo":"email"}'],
    ['a claim request that is a string', '{"userinfo":{"email":"essential"}}'],
    ['a claim request that is true', '{"userinfo":{"email":true}}'],
    ['a claim request that is an array', '{"userinfo":{"email":[]}}'],
    ['essential that is not a boolean', '{"userinfo":{"email":{"essential":"true"}}}'],
    ['a value that is an object', '{"id_token":{"acr":{"value":{"a":1}}}}'],
    ['values that is not an array', '{"id_token":{"acr":{"values":"1"}}}'],
    ['values holding an object', '{"id_token":{"acr":{"values":[null]}}}'],
    ['an empty claim name', '{"userinfo":{"":null}}'],
    ['a __proto__ member', '{"userinfo":{"__proto__":{"essential":true}}}'],
    ['a __proto__ at the top', '{"__proto__":{"userinfo":{}}}'],
  ])('%s is invalid_request', (_case, text) => {
    invalid(text);
  });

  it('says which member is malformed, without echoing the request', () => {
    expect(invalid('{"id_token":{"acr":{"essential":1}}}')).toBe('the claims parameter is malformed (in id_token)');
    expect(invalid('{"userinfo":{"<script>":{"essential":1}}}')).not.toContain('<script>');
  });

  it(`is refused above ${MAX_CLAIMS_PARAMETER_LENGTH} characters, accepted at exactly that`, () => {
    const atLimit = (length: number) => {
      const head = '{"userinfo":{"name":null},"pad":"';
      return `${head}${'x'.repeat(length - head.length - 2)}"}`;
    };
    expect(atLimit(MAX_CLAIMS_PARAMETER_LENGTH)).toHaveLength(MAX_CLAIMS_PARAMETER_LENGTH);
    expect(parseClaimsParameter(atLimit(MAX_CLAIMS_PARAMETER_LENGTH))).toEqual({ userinfo: { name: null } });
    expect(invalid(atLimit(MAX_CLAIMS_PARAMETER_LENGTH + 1))).toContain('longer than');
  });

  it('parsing does not pollute any prototype', () => {
    invalid('{"userinfo":{"__proto__":{"polluted":true}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('claims: claims_locales and a requested subject', () => {
  it('claims_locales: tags in order, each once; malformed ones skipped, never an error', () => {
    expect(parseClaimsLocales('de-CH  fr de-CH en')).toEqual(['de-CH', 'fr', 'en']);
    expect(parseClaimsLocales('de_DE <script> ja-Kana-JP')).toEqual(['ja-Kana-JP']);
    expect(parseClaimsLocales(undefined)).toEqual([]);
    expect(parseClaimsLocales(`en-${'a'.repeat(40)} fr`)).toEqual(['fr']);
  });

  it(`claims_locales: at most ${MAX_CLAIMS_LOCALES}`, () => {
    const many = Array.from({ length: 40 }, (_, i) => `x${String.fromCharCode(97 + (i % 26))}${i >= 26 ? 'z' : ''}`).join(' ');
    expect(parseClaimsLocales(many)).toHaveLength(MAX_CLAIMS_LOCALES);
  });

  it('the subject an id_token sub value insists on (§5.5.1), and none otherwise', () => {
    expect(requestedSubject(parseClaimsParameter('{"id_token":{"sub":{"value":"248289761001"}}}'))).toBe('248289761001');
    expect(requestedSubject(parseClaimsParameter('{"id_token":{"sub":null}}'))).toBeUndefined();
    // Not a string: still insisted on, so it matches no subject (never "nothing asked").
    expect(requestedSubject(parseClaimsParameter('{"id_token":{"sub":{"value":42}}}'))).toBe('42');
    expect(requestedSubject(parseClaimsParameter('{"userinfo":{"sub":{"value":"x"}}}'))).toBeUndefined();
    expect(requestedSubject(undefined)).toBeUndefined();
  });
});
