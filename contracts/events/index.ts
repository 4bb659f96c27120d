import { z } from 'zod';
import { AuthenticationEvent } from './authentication.js';
import { BackchannelLogoutEvent } from './backchannel-logout.js';
import { ClientEvent } from './client.js';
import { ConsentEvent } from './consent.js';
import { GrantEvent } from './grant.js';
import { KeyringEvent } from './keyring.js';
import { LogEvent } from './log.js';
import { RefreshTokenEvent } from './refresh-token.js';
import { SessionEvent } from './session.js';
import { UserEvent } from './user.js';
import { UsernameEvent } from './username.js';

export * from './authentication.js';
export * from './backchannel-logout.js';
export * from './client.js';
export * from './consent.js';
export * from './define.js';
export * from './grant.js';
export * from './keyring.js';
export * from './log.js';
export * from './metadata.js';
export * from './published.js';
export * from './refresh-token.js';
export * from './session.js';
export * from './user.js';
export * from './username.js';

/** Every event type the system writes, at every schema version. */
export const DomainEvent = z.union([
  ClientEvent,
  UserEvent,
  AuthenticationEvent,
  UsernameEvent,
  SessionEvent,
  ConsentEvent,
  GrantEvent,
  RefreshTokenEvent,
  KeyringEvent,
  BackchannelLogoutEvent,
  LogEvent,
]);
export type DomainEvent = z.infer<typeof DomainEvent>;
export type EventType = DomainEvent['type'];
