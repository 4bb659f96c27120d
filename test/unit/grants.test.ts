import { GRANTS, GRANT_TYPES, GrantRequest, grantOf } from '../../contracts/grants/index.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { validateClientMetadata } from '../../services/client-registry/domain/client/metadata.js';

/** The one list of grant types (contracts/grants/) and what it drives. */
describe('grant types', () => {
  it('lists each grant type once, each with a request schema that accepts what its form reader builds', () => {
    expect(new Set(GRANT_TYPES).size).toBe(GRANTS.length);
    expect(GRANT_TYPES).toContain('authorization_code');
    const form = {
      code: 'g.secret',
      redirect_uri: 'https://rp.example.test/cb',
      code_verifier: 'v'.repeat(43),
      refresh_token: 'r',
      username: 'alice',
      password: 'wonderland',
    };
    for (const grant of GRANTS) {
      expect(grantOf(grant.grantType)).toBe(grant);
      expect(GrantRequest.parse(grant.fromForm(form, { resource: [] }))).toMatchObject({ grantType: grant.grantType });
    }
    expect(grantOf('urn:example:unknown')).toBeUndefined();
  });

  it('reads the authorization code grant from the form, an empty parameter counting as absent (RFC 6749 §3.2)', () => {
    const grant = grantOf('authorization_code')!;
    expect(grant.fromForm({ code: 'c', redirect_uri: '', code_verifier: '' }, { resource: [] })).toEqual({ grantType: 'authorization_code', code: 'c' });
    const missing = (() => {
      try {
        return grant.fromForm({ redirect_uri: 'https://rp.example.test/cb' }, { resource: [] });
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toBeInstanceOf(OAuthError);
    expect(missing).toMatchObject({ code: 'invalid_request', description: 'code is required' });
  });

  it('refuses a request for a grant type not in the list on the bus too', () => {
    expect(GrantRequest.safeParse({ grantType: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'd' }).success).toBe(false);
  });

  it('reads resource indicators (RFC 8707): absolute URIs without fragment, else invalid_target', () => {
    const grant = grantOf('client_credentials')!;
    expect(grant.fromForm({ scope: 'a b' }, { resource: ['https://api.example.test/', 'urn:example:rs', 'https://api.example.test/'] })).toEqual({
      grantType: 'client_credentials',
      scope: 'a b',
      resources: ['https://api.example.test/', 'urn:example:rs'],
    });
    for (const bad of ['/relative', 'https://api.example.test/#frag', 'not a uri']) {
      expect(() => grant.fromForm({}, { resource: [bad] })).toThrow(expect.objectContaining({ code: 'invalid_target' }));
    }
  });

  it('drives which grant types a client may register', () => {
    const base = { redirect_uris: ['https://rp.example.test/cb'] };
    for (const grantType of GRANT_TYPES) {
      const responseTypes = grantType === 'authorization_code' ? ['code'] : [];
      const metadata = { ...base, grant_types: [grantType], response_types: responseTypes };
      // The password grant only for clients the operator registers (with the initial access token).
      expect(validateClientMetadata(metadata, 'initial_access_token').grantTypes).toEqual([grantType]);
    }
    expect(() => validateClientMetadata({ ...base, grant_types: ['urn:example:unknown'] })).toThrow(/unsupported grant type/);
  });
});
