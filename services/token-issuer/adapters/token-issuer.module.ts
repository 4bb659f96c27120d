import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { TenantId } from '../../../contracts/tenant.js';
import { JWKS_MAX_AGE_SECONDS } from '../../../contracts/messages/token-issuer.js';
import type { Bus } from '../../../infra/bus/port.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { ProjectionRunner } from '../../shared/adapters/projection-runner.js';
import { LOGGER } from '../../shared/adapters/tokens.js';
import { BackchannelLogoutSender } from '../app/backchannel-logout/sender.js';
import { DEFAULT_BACKCHANNEL_LOGOUT_POLICY, type BackchannelLogoutPolicy } from '../app/backchannel-logout/delivery-job.js';
import { Keyring } from '../app/keyring.js';
import { LogSealer } from '../app/log-sealer.js';
import type { SealKey } from '../../shared/integrity/seal-key.js';
import type { LogSealPolicy } from './token-issuer-env.js';
import { ResourceServers } from '../app/resource-servers.js';
import type { TokenIssuerDeps } from '../app/token-issuer.deps.js';
import { TokenMinter, type TokenLifetimes } from '../app/token-minter.js';
import { VerifiedTokenCache } from '../app/verified-token-cache.js';
import { TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections } from '../projections/token-issuer.projections.js';
import { DEFAULT_KEY_ACTIVATION_DELAY_SECONDS, keyringPolicyFrom } from './token-issuer-env.js';
import { TOKEN_ISSUER_DEPS, TokenIssuerMessageController } from './token-issuer.message.controller.js';

export interface TokenIssuerModuleOptions {
  eventStore: EventStore;
  projectionStore: ProjectionStore;
  /**
   * Where the client-registry writes the client watermarks through (its own namespace, read
   * here); default `projectionStore` (the embedded mode's one store).
   */
  clientWatermarks?: ProjectionStore | undefined;
  /** authn's namespace, read for the user watermarks it writes through (read-only); default `projectionStore`. */
  userWatermarks?: ProjectionStore | undefined;
  issuer: string;
  tenant: TenantId;
  /** deriveKey(kek, 'signing-keys') */
  signingKeySealingKey: Buffer;
  /** deriveKey(kek, 'refresh-tokens') */
  refreshTokenKey: Buffer;
  /** For calls to the other services (authn checks the password grant's credentials). */
  bus: Bus;
  lifetimes: TokenLifetimes;
  /** IDP_KEY_ACTIVATION_DELAY_SECONDS (default: the JWKS max-age plus a minute). */
  keyActivationDelaySeconds?: number | undefined;
  /** RFC 8707 resource servers (IDP_RESOURCE_SERVERS); none: tokens are for this issuer only. */
  resourceServers?: ResourceServers | undefined;
  /** Back-channel logout retries (IDP_BACKCHANNEL_LOGOUT_*). */
  backchannelLogout?: BackchannelLogoutPolicy | undefined;
  /** Deadline of the token-issuer's own bus calls (client authentication, sessions, GetClient). */
  requestTimeoutMs?: number | undefined;
  logger: Logger;
  /**
   * Whether this instance does the service's background work (the back-channel logout sender):
   * default true. The `idp` command line runs the service's command handlers in its own process
   * (embedded mode) with false, so that it never sends what the server sends.
   */
  backgroundWork?: boolean;
  /**
   * Seals the log (background work too): the key from deriveKey(kek, 'log-seal'), the interval,
   * the count and the anchor file. Absent: this instance does not seal.
   */
  logSeal?: (LogSealPolicy & { key: SealKey }) | undefined;
}

const RUNNER = Symbol('TOKEN_ISSUER_PROJECTIONS');
const SENDER = Symbol('TOKEN_ISSUER_BACKCHANNEL_LOGOUT');
const SEALER = Symbol('TOKEN_ISSUER_LOG_SEALER');

@Module({})
export class TokenIssuerModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(RUNNER) private readonly runner: ProjectionRunner,
    @Inject(SENDER) private readonly sender: BackchannelLogoutSender,
    @Inject(SEALER) private readonly sealer: { current: LogSealer | undefined },
    @Inject(TOKEN_ISSUER_DEPS) private readonly deps: TokenIssuerDeps & { tenant: TenantId; backgroundWork: boolean },
  ) {}

  static forRoot(options: TokenIssuerModuleOptions): DynamicModule {
    const logger = options.logger.child({ service: 'token-issuer' });
    const activationDelay = options.keyActivationDelaySeconds ?? DEFAULT_KEY_ACTIVATION_DELAY_SECONDS;
    if (activationDelay < JWKS_MAX_AGE_SECONDS && (options.backgroundWork ?? true)) {
      logger.warn(
        { activationDelaySeconds: activationDelay, jwksMaxAgeSeconds: JWKS_MAX_AGE_SECONDS },
        'IDP_KEY_ACTIVATION_DELAY_SECONDS is below the JWKS max-age: after a rotation, relying parties may meet a kid their cached JWKS does not have yet',
      );
    }
    const keyring = new Keyring(options.eventStore, options.signingKeySealingKey, keyringPolicyFrom(activationDelay, options.lifetimes));
    const runner = new ProjectionRunner(TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections, options.eventStore, options.projectionStore, logger);
    const deps: TokenIssuerDeps & { tenant: TenantId; backgroundWork: boolean } = {
      store: options.eventStore,
      projections: options.projectionStore,
      clientWatermarks: options.clientWatermarks ?? options.projectionStore,
      userWatermarks: options.userWatermarks ?? options.projectionStore,
      projectionFreshness: runner,
      keyring,
      minter: new TokenMinter(keyring, options.issuer, options.lifetimes),
      issuer: options.issuer,
      refreshTokenKey: options.refreshTokenKey,
      verifiedTokens: new VerifiedTokenCache(),
      resourceServers: options.resourceServers ?? new ResourceServers(),
      bus: options.bus,
      ...(options.requestTimeoutMs !== undefined ? { peerTimeoutMs: options.requestTimeoutMs } : {}),
      clock: () => new Date(),
      tenant: options.tenant,
      backgroundWork: options.backgroundWork ?? true,
    };
    // The token-issuer sends back-channel logouts: it holds the keys that sign the logout tokens
    // and already follows the log (README, Back-channel logout).
    const sender = new BackchannelLogoutSender({
      store: options.eventStore,
      projections: options.projectionStore,
      bus: options.bus,
      keyring,
      issuer: options.issuer,
      tenant: options.tenant,
      policy: options.backchannelLogout ?? DEFAULT_BACKCHANNEL_LOGOUT_POLICY,
      requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
      logger: logger.child({ component: 'backchannel-logout' }),
      clock: () => new Date(),
    });
    const sealer: { current: LogSealer | undefined } = {
      current:
        options.logSeal && (options.backgroundWork ?? true)
          ? new LogSealer({
              store: options.eventStore,
              tenant: options.tenant,
              key: options.logSeal.key,
              anchorFile: options.logSeal.anchorFile,
              intervalMs: options.logSeal.intervalMs,
              everyEvents: options.logSeal.everyEvents,
              logger: logger.child({ component: 'log-sealer' }),
              clock: () => new Date(),
            })
          : undefined,
    };
    return {
      module: TokenIssuerModule,
      controllers: [TokenIssuerMessageController],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: TOKEN_ISSUER_DEPS, useValue: deps },
        { provide: RUNNER, useValue: runner },
        { provide: SENDER, useValue: sender },
        { provide: SEALER, useValue: sealer },
      ],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
    // Generate (first start) or unseal the signing keys before the first request needs them.
    await this.deps.keyring.forTenant({
      tenant: this.deps.tenant,
      correlationId: 'startup',
      causationId: null,
      actor: { kind: 'system', id: 'token-issuer' },
    });
    // Follows the log in the background: logouts ended while it was down are delivered now.
    if (this.deps.backgroundWork) this.sender.start();
    // Seals the log from the last seal on (DESIGN §4); the admin session of `idp` never seals.
    this.sealer.current?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    // First: its final seal covers what was appended up to the shutdown, and the anchor follows.
    await this.sealer.current?.stop();
    await this.sender.stop();
    await this.runner.stop();
  }
}
