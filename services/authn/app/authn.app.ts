import { hashPassword, type Argon2Parameters } from '../../../infra/crypto/passwords.js';
import { createHmac, randomUUID } from 'node:crypto';
import { ConsentEvent } from '../../../contracts/events/consent.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { UserEvent, UserProfile } from '../../../contracts/events/user.js';
import { UsernameEvent } from '../../../contracts/events/username.js';
import { SessionEvent, type SessionEndReason } from '../../../contracts/events/session.js';
import type { ReplyOf } from '../../../contracts/messages/define.js';
import type { Login, SessionView } from '../../../contracts/messages/authn.js';
import { ProfileClaimsInput, type ProfileClaims } from '../../../contracts/profile-claims.js';
import { streams } from '../../../contracts/streams.js';
import type { DataKeyStore } from '../../../infra/crypto/data-keys/port.js';
import { openJson, sealJson } from '../../../infra/crypto/envelope.js';
import { constantTimeEqual, randomSecret, sha256Hex } from '../../../infra/crypto/secrets.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { handleCommand, type CommandHandlerDeps } from '../../shared/app/command-handler.js';
import { consentDecider, coversScopes } from '../domain/consent/consent.js';
import { sessionDecider } from '../domain/session/session.js';
import { releaseClaims, type ClaimsToRelease } from '../domain/user/release-claims.js';
import { userDecider } from '../domain/user/user.js';
import { usernameDecider } from '../domain/username/username.js';
import { AUTHN_CHECKPOINT, authnProjections, keys, type SessionRecord, type UserRecord } from '../projections/authn.projections.js';
import { passwordLogin, type LoginDeps } from './login.js';
import { sealPasswordHash } from './password-hashes.js';
import { UserAdmin } from './user-admin.js';
import { userWatermarkKey, userWatermarkRefuses, type UserWatermark } from '../../shared/projections/user-watermark.js';

export interface AuthnDeps {
  store: EventStore;
  projections: ProjectionStore;
  dataKeys: DataKeyStore;
  /** HMAC key for username lookups, derived from the KEK: the log holds no usernames. */
  usernameKey: Buffer;
  /**
   * HMAC key for the source of a login attempt (the client address), derived from the KEK for
   * this purpose only ('login-source'): what the throttle counts and the log keeps of it.
   */
  loginSourceKey: Buffer;
  sessionTtlSeconds: number;
  /** Parameters of new password hashes; OWASP's recommended argon2id setting by default. */
  argon2?: Argon2Parameters;
  clock?: () => Date;
}

/** A registration: the credentials and the user's standard claims (OIDC Core §5.1). */
export type RegisterUserInput = { username: string; password: string } & { [K in keyof ProfileClaims]?: ProfileClaims[K] | undefined };

const PROFILE_CLAIM_NAMES = Object.keys(ProfileClaimsInput) as Array<keyof ProfileClaims>;

export class AuthnApp {
  private readonly handlerDeps: CommandHandlerDeps;
  private readonly clock: () => Date;
  private readonly loginDeps: LoginDeps;
  /** `idp user …`: disable, enable, set a password, forget, show, list. */
  readonly users: UserAdmin;

  constructor(private readonly deps: AuthnDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.handlerDeps = {
      store: deps.store,
      service: 'authn',
      projections: { store: deps.projections, project: authnProjections, checkpoint: AUTHN_CHECKPOINT },
      clock: this.clock,
    };
    this.loginDeps = {
      handlerDeps: this.handlerDeps,
      argon2: deps.argon2,
      sessionTtlSeconds: deps.sessionTtlSeconds,
      clock: this.clock,
      decoyHash: hashPassword(randomSecret(), deps.argon2),
      dataKeys: deps.dataKeys,
    };
    this.users = new UserAdmin({
      handlerDeps: this.handlerDeps,
      store: deps.store,
      projections: deps.projections,
      dataKeys: deps.dataKeys,
      argon2: deps.argon2,
      clock: this.clock,
      usernameDigest: (tenant, username) => this.usernameDigest(tenant, username),
    });
  }

  usernameDigest(tenant: string, username: string): string {
    return createHmac('sha256', this.deps.usernameKey).update(`${tenant}:${username.normalize('NFC').toLowerCase()}`).digest('hex');
  }

  async registerUser(ctx: RequestContext, input: RegisterUserInput): Promise<{ sub: string; created: boolean }> {
    const usernameDigest = this.usernameDigest(ctx.tenant, input.username);
    const existing = await this.deps.projections.get<string>(keys.userByUsername(ctx.tenant, usernameDigest));
    if (existing) return { sub: existing, created: false };

    // Claim the name first: of two registrations racing for it, one wins; the other gets its sub.
    const candidate = randomUUID();
    const claim = await handleCommand(this.handlerDeps, {
      streamName: streams.username(ctx.tenant, usernameDigest),
      decider: usernameDecider,
      schema: UsernameEvent,
      command: { type: 'claim_username', usernameDigest, sub: candidate },
      ctx,
    });
    const sub = claim.appended.length > 0 ? candidate : claim.state.claimedBy!;

    // Registering an existing account writes nothing; a claim whose account was never written
    // (a crash in between) is completed here.
    const { decision, appended } = await handleCommand(this.handlerDeps, {
      streamName: streams.user(ctx.tenant, sub),
      decider: userDecider,
      schema: UserEvent,
      command: async (state) => ({
        type: 'register_user' as const,
        sub,
        usernameDigest,
        account: state.status === 'registered' ? null : await this.newAccount(ctx, sub, input),
      }),
      ctx,
    });
    if (decision.rejection) throw decision.rejection;
    return { sub, created: appended.length > 0 };
  }

  private async newAccount(ctx: RequestContext, sub: string, input: RegisterUserInput) {
    const dataKey = await this.deps.dataKeys.getOrCreate(ctx.tenant, sub);
    const given = Object.fromEntries(PROFILE_CLAIM_NAMES.flatMap((name) => (input[name] !== undefined ? [[name, input[name]]] : [])));
    const { email_verified, phone_number_verified, ...claims } = given as ProfileClaims;
    const profile: UserProfile = {
      preferred_username: input.username,
      ...claims,
      // OIDC Core §5.1: verified only when the registrar says so.
      ...(claims.email !== undefined ? { email_verified: email_verified ?? false } : {}),
      ...(claims.phone_number !== undefined ? { phone_number_verified: phone_number_verified ?? false } : {}),
      updated_at: Math.floor(this.clock().getTime() / 1000),
    };
    return {
      sealedPasswordHash: sealPasswordHash(dataKey, ctx.tenant, sub, await hashPassword(input.password, this.deps.argon2)),
      profile: sealJson(dataKey, profile, `${ctx.tenant}:${sub}`),
    };
  }

  /**
   * Verifies a password and, when it matches, records the authentication and starts a session,
   * unless `startSession` is false (the password grant: the same check and record, no session).
   */
  async login(
    ctx: RequestContext,
    input: {
      username: string;
      password: string;
      clientId: string | null;
      startSession?: boolean | undefined;
      source?: string | null | undefined;
    },
  ): Promise<ReplyOf<typeof Login>> {
    const sub = await this.deps.projections.get<string>(
      keys.userByUsername(ctx.tenant, this.usernameDigest(ctx.tenant, input.username)),
    );
    const { source, ...attempt } = input;
    return passwordLogin(this.loginDeps, ctx, sub ?? null, { ...attempt, sourceDigest: source ? this.sourceDigest(ctx.tenant, source) : null });
  }

  /** HMAC-SHA-256 (the login source key) of `source:<tenant>:<client address>`: what is kept of a login's source. */
  sourceDigest(tenant: string, source: string): string {
    return createHmac('sha256', this.deps.loginSourceKey).update(`source:${tenant}:${source}`).digest('hex');
  }

  async resolveSession(ctx: RequestContext, sessionToken: string): Promise<SessionView | null> {
    const dot = sessionToken.indexOf('.');
    if (dot <= 0) return null;
    const sessionId = sessionToken.slice(0, dot);
    const record = await this.deps.projections.get<SessionRecord>(keys.session(ctx.tenant, sessionId), this.clock().getTime());
    if (!record || !constantTimeEqual(sha256Hex(sessionToken.slice(dot + 1)), record.secretHash)) return null;
    // A disabled or forgotten user has no session; one begun before a watermark is over (DESIGN §3).
    const mark = await this.deps.projections.get<UserWatermark>(userWatermarkKey(ctx.tenant, record.sub));
    if (userWatermarkRefuses(mark, record.authTime)) return null;
    const { sub, authTime, acr, amr } = record;
    return { sessionId, sub, authTime, acr, amr };
  }

  /**
   * Ends the session this cookie value opens (`session.ended`, written through, so the very next
   * ResolveSession finds nothing). Only the cookie's holder can: its secret must match.
   */
  async endSession(
    ctx: RequestContext,
    input: { sessionToken: string; reason: SessionEndReason; clientId: string | null },
  ): Promise<{ ended: boolean; sessionId: string | null; sub: string | null }> {
    const nothing = { ended: false, sessionId: null, sub: null };
    const dot = input.sessionToken.indexOf('.');
    const sessionId = dot > 0 ? input.sessionToken.slice(0, dot) : '';
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(sessionId)) return nothing;
    const { decision, appended, state } = await handleCommand(this.handlerDeps, {
      streamName: streams.session(ctx.tenant, sessionId),
      decider: sessionDecider,
      schema: SessionEvent,
      command: {
        type: 'end_session',
        sessionId,
        presentedSecretHash: sha256Hex(input.sessionToken.slice(dot + 1)),
        reason: input.reason,
        clientId: input.clientId,
      },
      ctx,
    });
    if (decision.rejection || state.status === 'none') return nothing;
    return { ended: appended.length > 0, sessionId, sub: state.sub };
  }

  async hasConsent(ctx: RequestContext, sub: string, clientId: string, scopes: string[]): Promise<boolean> {
    const granted = (await this.deps.projections.get<string[]>(keys.consent(ctx.tenant, sub, clientId))) ?? [];
    return coversScopes({ scopes: granted }, scopes);
  }

  async grantConsent(ctx: RequestContext, sub: string, clientId: string, scopes: string[]): Promise<void> {
    const { decision } = await handleCommand(this.handlerDeps, {
      streamName: streams.consent(ctx.tenant, sub, clientId),
      decider: consentDecider,
      schema: ConsentEvent,
      command: { type: 'grant_consent', sub, clientId, scopes },
      ctx: { ...ctx, actor: { kind: 'user', id: sub } },
    });
    if (decision.rejection) throw decision.rejection;
  }

  /**
   * The claims the user releases for these scopes and requested claims (OIDC Core §5.3.2, §5.4,
   * §5.5), or null if there is no such user. A forgotten user (data key destroyed) releases only
   * `sub`.
   */
  async userClaims(ctx: RequestContext, sub: string, request: ClaimsToRelease): Promise<Record<string, unknown> | null> {
    const user = await this.deps.projections.get<UserRecord>(keys.user(ctx.tenant, sub));
    if (!user) return null;
    const dataKey = await this.deps.dataKeys.get(ctx.tenant, sub);
    const profile = dataKey ? UserProfile.parse(openJson(dataKey, user.profile, `${ctx.tenant}:${sub}`)) : undefined;
    return releaseClaims(sub, profile, request);
  }
}
