import * as authn from './authn.js';
import * as clientRegistry from './client-registry.js';
import type { MessageContract } from './define.js';
import * as tokenIssuer from './token-issuer.js';

const isMessage = (value: unknown): value is MessageContract<string, any, any> =>
  typeof value === 'object' && value !== null && 'subject' in value && 'callers' in value;

/** Every request/reply message of the bus, from every service's contract file. */
export const ALL_MESSAGES: readonly MessageContract<string, any, any>[] = [authn, clientRegistry, tokenIssuer].flatMap(
  (module) => Object.values(module).filter(isMessage),
);
