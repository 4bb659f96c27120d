import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import type { Keyring } from './keyring.js';
import type { TokenMinter } from './token-minter.js';

export interface TokenIssuerDeps {
  store: EventStore;
  projections: ProjectionStore;
  keyring: Keyring;
  minter: TokenMinter;
  issuer: string;
  clock: () => Date;
}
