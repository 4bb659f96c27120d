import { GRANTS, GRANT_TYPES, GrantRequest, grantOf } from '../../contracts/grants/index.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { validateClientMetadata } from '../../services/client-registry/domain/client/metadata.js';

/** The one list of grant types (contracts/grants/) and what it drives. */
describe('grant types', () => {
  it('lists each grant type once, each with a request schema that accepts what its form reader builds', () => {
    expect(new Set(GRANT_TYPES).size).toBe(GRANTS.length);
    expect(GRANT_TYPES).toContain('authorization_code');
    const form = { code: 'g.secret', redirect_uri: 'https://rp.example.test/cb', code_verifier: 'v'.repeat(43) };
    for (const grant of GRANTS) {
      expect(grantOf(grant.grantType)).toBe(grant);
      expect(GrantRequest.parse(grant.fromForm(form))).toMatchObject({ grantType: grant.grantType });
    }
    expect(grantOf('urn:example:unknown')).toBeUndefined();
  });

  it('reads the authorization code grant from the form, an empty parameter counting as absent (RFC 6749 §3.2)', () => {
    const grant = grantOf('authorization_code')!;
    expect(grant.fromForm({ code: 'c', redirect_uri: '', code_verifier: '' })).toEqual({ grantType: 'authorization_code', code: 'c' });
    const missing = (() => {
      try {
        return grant.fromForm({ redirect_uri: 'https://rp.example.test/cb' });
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toBeInstanceOf(OAuthError);
    expect(missing).toMatchObject({ code: 'invalid_request', description: 'code is required' });
  });

  it('refuses a request for a grant type not in the list on the bus too', () => {
    expect(GrantRequest.safeParse({ grantType: 'password', username: 'u', password: 'p' }).success).toBe(false);
  });

  it('drives which grant types a client may register', () => {
    const base = { redirect_uris: ['https://rp.example.test/cb'] };
    for (const grantType of GRANT_TYPES) {
      expect(validateClientMetadata({ ...base, grant_types: [grantType] }).grantTypes).toEqual([grantType]);
    }
    expect(() => validateClientMetadata({ ...base, grant_types: ['urn:example:unknown'] })).toThrow(/unsupported grant type/);
  });
});
