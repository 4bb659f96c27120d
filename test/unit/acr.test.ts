import { ACR_PASSWORD, ACR_VALUES_SUPPORTED, chooseAcr } from '../../contracts/acr.js';
import { parseClaimsParameter } from '../../contracts/claims.js';

/** OIDC Core §2 (acr), §3.1.2.1 (acr_values), §5.5.1.1 (the acr claim requested). */
describe('acr: choosing the ID token acr', () => {
  const session = ACR_PASSWORD;
  const acrMember = (text: string) => parseClaimsParameter(text).id_token?.acr;

  it('supports exactly the value password logins record', () => {
    expect(ACR_VALUES_SUPPORTED).toEqual(['0']);
    expect(ACR_PASSWORD).toBe('0');
  });

  it('nothing asked: the session acr', () => {
    expect(chooseAcr(session, undefined, undefined)).toEqual({ acr: '0' });
  });

  it('acr_values are voluntary (§3.1.2.1): the session acr even when none of them matches', () => {
    expect(chooseAcr(session, ['urn:example:mfa', 'urn:example:hardware'], undefined)).toEqual({ acr: '0' });
    expect(chooseAcr(session, [], undefined)).toEqual({ acr: '0' });
  });

  it('the acr claim requested with null or voluntarily with values: the session acr', () => {
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":null}}'))).toEqual({ acr: '0' });
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":{"values":["urn:example:mfa"]}}}'))).toEqual({ acr: '0' });
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":{"essential":false,"value":"2"}}}'))).toEqual({ acr: '0' });
  });

  it('essential without value or values is met by any acr', () => {
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":{"essential":true}}}'))).toEqual({ acr: '0' });
  });

  it('essential with values the session meets: that acr (§5.5.1.1)', () => {
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":{"essential":true,"values":["urn:example:mfa","0"]}}}'))).toEqual({
      acr: '0',
    });
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":{"essential":true,"value":"0"}}}'))).toEqual({ acr: '0' });
  });

  it('essential with values the session cannot meet is unmet, whatever acr_values say', () => {
    expect(chooseAcr(session, ['0'], acrMember('{"id_token":{"acr":{"essential":true,"values":["urn:example:mfa"]}}}'))).toEqual({
      unmet: true,
    });
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":{"essential":true,"value":"1"}}}'))).toEqual({ unmet: true });
  });

  it('values are compared as exact strings: the number 0 is not the acr "0"', () => {
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":{"essential":true,"values":[0]}}}'))).toEqual({ unmet: true });
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":{"essential":true,"value":" 0"}}}'))).toEqual({ unmet: true });
  });

  it('value and values together: either satisfies', () => {
    expect(chooseAcr(session, undefined, acrMember('{"id_token":{"acr":{"essential":true,"value":"x","values":["0"]}}}'))).toEqual({
      acr: '0',
    });
  });
});
