import type { FastifyReply } from 'fastify';
import { GatewayCookies } from '../../services/gateway/adapters/http/cookies.js';

/** What the gateway asks the cookie plugin to set (the plugin's serialization is its own). */
function setCookies(secure: boolean): Array<{ name: string; options: Record<string, unknown> }> {
  const set: Array<{ name: string; options: Record<string, unknown> }> = [];
  const reply = { setCookie: (name: string, _value: string, options: Record<string, unknown>) => set.push({ name, options }) };
  const cookies = new GatewayCookies(secure);
  cookies.setAuthz(reply as unknown as FastifyReply, 'sealed');
  cookies.setSession(reply as unknown as FastifyReply, 'session', new Date(Date.now() + 60_000).toISOString());
  return set;
}

describe('gateway cookies (RFC 6265bis §4.1.3.2)', () => {
  it('over https both cookies are __Host- cookies: Secure, Path=/, no Domain, so a sibling subdomain cannot plant them', () => {
    const set = setCookies(true);
    expect(set.map((c) => c.name)).toEqual(['__Host-idp_authz', '__Host-idp_session']);
    for (const { options } of set) {
      expect(options).toMatchObject({ path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
      expect(options.domain).toBeUndefined();
    }
  });

  it('over plain http (local development) the prefix cannot be used', () => {
    expect(setCookies(false).map((c) => c.name)).toEqual(['idp_authz', 'idp_session']);
  });
});
