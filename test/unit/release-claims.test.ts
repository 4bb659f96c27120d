import type { UserProfile } from '../../contracts/events/user.js';
import { releaseClaims } from '../../services/authn/domain/user/release-claims.js';

/** What a user releases (OIDC Core §5.3.2, §5.4, §5.5, §5.2), as a pure function of the profile. */
const SUB = 'f3b1c2d4-0000-7000-8000-000000000001';
const FULL: UserProfile = {
  preferred_username: 'jane',
  name: 'Jane Doe',
  given_name: 'Jane',
  family_name: 'Doe',
  middle_name: 'Q',
  nickname: 'JD',
  profile: 'https://jane.example/me',
  picture: 'https://jane.example/me.png',
  website: 'https://jane.example',
  email: 'jane@example.com',
  email_verified: true,
  gender: 'female',
  birthdate: '0000-04-01',
  zoneinfo: 'Europe/Berlin',
  locale: 'de-DE',
  phone_number: '+4930123456',
  phone_number_verified: false,
  address: { street_address: 'Unter den Linden 1', locality: 'Berlin', postal_code: '10117', country: 'DE' },
  updated_at: 1_750_000_000,
  languageTagged: { 'name#de': 'Johanna Doe', 'name#ja-Kana-JP': 'ジェーン', 'family_name#DE-ch': 'Dö' },
};

describe('releasing claims', () => {
  it('sub always, even for no scope at all', () => {
    expect(releaseClaims(SUB, FULL, { scopes: ['openid'] })).toEqual({ sub: SUB });
  });

  it('profile scope: every §5.4 profile claim the user has, nothing else', () => {
    const { languageTagged: _tagged, email: _e, email_verified: _ev, phone_number: _p, phone_number_verified: _pv, address: _a, ...profile } = FULL;
    expect(releaseClaims(SUB, FULL, { scopes: ['openid', 'profile'] })).toEqual({ sub: SUB, ...profile });
  });

  it('email, address, phone scopes: their claims, with false verification flags kept', () => {
    expect(releaseClaims(SUB, FULL, { scopes: ['openid', 'email', 'address', 'phone'] })).toEqual({
      sub: SUB,
      email: 'jane@example.com',
      email_verified: true,
      address: FULL.address,
      phone_number: '+4930123456',
      phone_number_verified: false,
    });
  });

  it('claims the user lacks are left out, whether scope-requested, voluntary or essential (§5.5.1: no error)', () => {
    const minimal: UserProfile = { preferred_username: 'min' };
    expect(
      releaseClaims(SUB, minimal, { scopes: ['openid', 'email', 'address', 'phone'], requested: { name: { essential: true }, picture: null } }),
    ).toEqual({ sub: SUB });
  });

  it('individually requested claims beyond the scopes are released, essential or voluntary', () => {
    expect(releaseClaims(SUB, FULL, { scopes: ['openid'], requested: { email: { essential: true }, phone_number: null } })).toEqual({
      sub: SUB,
      email: 'jane@example.com',
      phone_number: '+4930123456',
    });
  });

  it('a requested value does not change the value released', () => {
    expect(releaseClaims(SUB, FULL, { scopes: [], requested: { email: { value: 'attacker@example.com', essential: true } } })).toEqual({
      sub: SUB,
      email: 'jane@example.com',
    });
  });

  it('unknown names, ID token claims and internal member names are ignored', () => {
    expect(
      releaseClaims(SUB, FULL, {
        scopes: ['openid', 'languageTagged', '__proto__'],
        requested: { languageTagged: null, shoe_size: { essential: true }, acr: { essential: true }, sub: { value: 'someone-else' }, constructor: null },
      }),
    ).toEqual({ sub: SUB });
  });

  it('a forgotten user (no profile) releases only sub, whatever is asked', () => {
    expect(releaseClaims(SUB, undefined, { scopes: ['openid', 'profile', 'email', 'address', 'phone'], requested: { name: { essential: true } } })).toEqual({
      sub: SUB,
    });
  });

  describe('language tags (§5.2)', () => {
    it('a tagged claim asked for by name: exactly that variant, tags compared case-insensitively', () => {
      expect(releaseClaims(SUB, FULL, { scopes: [], requested: { 'name#DE': null, 'family_name#de-CH': null, 'nickname#fr': null } })).toEqual({
        sub: SUB,
        'name#DE': 'Johanna Doe',
        'family_name#de-CH': 'Dö',
      });
    });

    it('claims_locales picks the first locale the user has, by BCP 47 lookup, under the plain name', () => {
      const released = releaseClaims(SUB, FULL, { scopes: ['profile'], locales: ['fr', 'de-AT'] });
      expect(released).toMatchObject({ name: 'Johanna Doe', given_name: 'Jane', family_name: 'Doe', nickname: 'JD' });
      expect(releaseClaims(SUB, FULL, { scopes: ['profile'], locales: ['de-CH'] })).toMatchObject({ name: 'Johanna Doe', family_name: 'Dö' });
      expect(releaseClaims(SUB, FULL, { scopes: ['profile'], locales: ['ja_Kana_JP'] })).toMatchObject({ name: 'ジェーン' });
    });

    it('no locale matches: the untagged value', () => {
      expect(releaseClaims(SUB, FULL, { scopes: ['profile'], locales: ['fr'] })).toMatchObject({ name: 'Jane Doe' });
    });

    it('no untagged value and no locale match: every tagged variant under its own name', () => {
      const taggedOnly: UserProfile = { preferred_username: 'k', languageTagged: { 'name#de': 'Karl', 'name#en': 'Charles' } };
      expect(releaseClaims(SUB, taggedOnly, { scopes: ['profile'] })).toEqual({ sub: SUB, preferred_username: 'k', 'name#de': 'Karl', 'name#en': 'Charles' });
    });

    it('tagged variants are not released without being asked for (scope or name)', () => {
      expect(releaseClaims(SUB, FULL, { scopes: ['email'], locales: ['de'] })).toEqual({ sub: SUB, email: 'jane@example.com', email_verified: true });
    });
  });
});
