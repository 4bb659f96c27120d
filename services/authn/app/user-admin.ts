import { EventMetadata, type RequestContext } from '../../../contracts/events/metadata.js';
import { UserEvent, UserProfile } from '../../../contracts/events/user.js';
import { UserSub, type UserView } from '../../../contracts/messages/authn.js';
import { OAuthError } from '../../../contracts/oauth-error.js';
import { streams } from '../../../contracts/streams.js';
import type { DataKeyStore } from '../../../infra/crypto/data-keys/port.js';
import { openJson } from '../../../infra/crypto/envelope.js';
import { hashPassword, type Argon2Parameters } from '../../../infra/crypto/passwords.js';
import type { EventStore } from '../../../infra/event-store/port.js';
import type { ProjectionStore } from '../../../infra/projections/port.js';
import { handleCommand, parseRecorded, type CommandHandlerDeps } from '../../shared/app/command-handler.js';
import { userDecider, type UserAdminCommand, type UserState } from '../domain/user/user.js';
import { keys } from '../projections/authn.projections.js';
import { sealPasswordHash } from './password-hashes.js';

export interface UserAdminDeps {
  handlerDeps: CommandHandlerDeps;
  store: EventStore;
  projections: ProjectionStore;
  dataKeys: DataKeyStore;
  argon2: Argon2Parameters | undefined;
  clock: () => Date;
  /** The lookup digest of a username (HMAC under the KEK-derived key), to find a user by name. */
  usernameDigest: (tenant: string, username: string) => string;
}

/** `found: false` when no user has the `sub`; `changed: false` when nothing was appended. */
export type UserAdminOutcome = { found: false } | { found: true; changed: boolean; user: UserView };

/** How many `$all` events one read of ListUsers takes. */
const PAGE = 1000;

/**
 * What administrators do with users (`idp user …`): every change is one decision of the user
 * aggregate on the user's stream, through the same command handler as logins; reads open the
 * sealed profile with the user's data key, which only authn holds.
 */
export class UserAdmin {
  constructor(private readonly deps: UserAdminDeps) {}

  async get(ctx: RequestContext, subOrUsername: string): Promise<(UserView & { claims: Record<string, unknown> | null }) | null> {
    const bySub = UserSub.safeParse(subOrUsername).success ? await this.read(ctx, subOrUsername) : undefined;
    const sub = bySub
      ? subOrUsername
      : await this.deps.projections.get<string>(keys.userByUsername(ctx.tenant, this.deps.usernameDigest(ctx.tenant, subOrUsername)));
    const found = bySub ?? (sub ? await this.read(ctx, sub) : undefined);
    if (!sub || !found) return null;
    const { view, profile } = await this.view(ctx, sub, found);
    const { preferred_username: _username, ...claims } = profile ?? { preferred_username: '' };
    return { ...view, claims: profile ? claims : null };
  }

  /** Every user of the tenant in registration order: the log's `user.registered` events, then each user's stream. */
  async list(ctx: RequestContext): Promise<UserView[]> {
    const prefix = streams.user(ctx.tenant, '');
    const subs: string[] = [];
    for (let after = 0; ; ) {
      const page = await this.deps.store.readAll({ after, limit: PAGE });
      for (const event of page) {
        if (event.type === 'user.registered' && event.streamName.startsWith(prefix)) subs.push(event.streamName.slice(prefix.length));
      }
      if (page.length < PAGE) break;
      after = page.at(-1)!.position;
    }
    const views: UserView[] = [];
    for (const sub of subs) {
      const found = await this.read(ctx, sub);
      if (found) views.push((await this.view(ctx, sub, found)).view);
    }
    return views;
  }

  disable(ctx: RequestContext, sub: string, reason: string | undefined): Promise<UserAdminOutcome> {
    return this.decide(ctx, sub, async () => ({ type: 'disable_user', now: this.deps.clock(), reason }));
  }

  enable(ctx: RequestContext, sub: string): Promise<UserAdminOutcome> {
    return this.decide(ctx, sub, async () => ({ type: 'enable_user', now: this.deps.clock() }));
  }

  /** argon2 runs once, however many times a lost race makes the decision run again. */
  setPassword(ctx: RequestContext, sub: string, password: string): Promise<UserAdminOutcome> {
    let hashed: Promise<string> | undefined;
    return this.decide(ctx, sub, async (state) => {
      const now = this.deps.clock();
      const dataKey = state.status === 'registered' && state.standing.status !== 'forgotten' ? await this.deps.dataKeys.get(ctx.tenant, sub) : undefined;
      if (!dataKey) return { type: 'set_password', now, sealedPasswordHash: null };
      const phc = await (hashed ??= hashPassword(password, this.deps.argon2));
      return { type: 'set_password', now, sealedPasswordHash: sealPasswordHash(dataKey, ctx.tenant, sub, phc) };
    });
  }

  /**
   * `user.forgotten` first, then the data key destroyed. The event is the decision (the watermark
   * refuses every token at once) and the key's destruction follows it; a crash in between leaves a
   * user recorded as forgotten whose key still exists, which authn already treats as forgotten
   * (no login, no claims), and `idp user show` reports (`dataKey: present`). Forgetting again
   * appends nothing and destroys the key (destroy is idempotent): the retry completes it. The
   * other order would leave, after a crash, a user whose data is gone but whose tokens still work.
   */
  async forget(ctx: RequestContext, sub: string): Promise<UserAdminOutcome> {
    return this.decide(
      ctx,
      sub,
      async () => ({ type: 'forget_user', now: this.deps.clock() }),
      () => this.deps.dataKeys.destroy(ctx.tenant, sub),
    );
  }

  private async decide(
    ctx: RequestContext,
    sub: string,
    command: (state: UserState) => Promise<UserAdminCommand>,
    /** What follows an accepted decision (also one that appended nothing), before the answer. */
    then?: () => Promise<void>,
  ): Promise<UserAdminOutcome> {
    // An unknown sub is answered before any decision: nothing is read but the stream.
    const { decision, state, appended } = await handleCommand(this.deps.handlerDeps, {
      streamName: streams.user(ctx.tenant, sub),
      decider: userDecider,
      schema: UserEvent,
      command,
      ctx,
    });
    if (state.status !== 'registered') return { found: false };
    if (decision.rejection) throw decision.rejection;
    await then?.();
    const found = await this.read(ctx, sub);
    if (!found) throw new OAuthError('server_error', 'the user vanished from the log', { mayRedirect: false });
    return { found: true, changed: appended.length > 0, user: (await this.view(ctx, sub, found)).view };
  }

  /** The user's stream folded, and when they registered; undefined when there is no such user. */
  private async read(ctx: RequestContext, sub: string): Promise<{ state: UserState & { status: 'registered' }; registeredAt: string } | undefined> {
    const { events } = await this.deps.store.readStream(streams.user(ctx.tenant, sub));
    let state = userDecider.initialState();
    let registeredAt: string | undefined;
    for (const recorded of events) {
      const event = parseRecorded(UserEvent, recorded);
      if (event.type === 'user.registered' && registeredAt === undefined) registeredAt = EventMetadata.parse(recorded.metadata).time;
      state = userDecider.evolve(state, event);
    }
    if (state.status !== 'registered' || registeredAt === undefined) return undefined;
    return { state, registeredAt };
  }

  private async view(
    ctx: RequestContext,
    sub: string,
    { state, registeredAt }: { state: UserState & { status: 'registered' }; registeredAt: string },
  ): Promise<{ view: UserView; profile: UserProfile | undefined }> {
    const [dataKey, lastLoginAt] = await Promise.all([
      this.deps.dataKeys.get(ctx.tenant, sub),
      this.deps.projections.get<string>(keys.lastLogin(ctx.tenant, sub)),
    ]);
    // A forgotten user's profile is never opened, even while an interrupted forget left the key.
    const readable = dataKey && state.standing.status !== 'forgotten' ? dataKey : undefined;
    const profile = readable ? UserProfile.parse(openJson(readable, state.profile, `${ctx.tenant}:${sub}`)) : undefined;
    const { standing } = state;
    return {
      profile,
      view: {
        sub,
        username: profile?.preferred_username ?? null,
        status: standing.status,
        registeredAt,
        lastLoginAt: lastLoginAt ?? null,
        failedLogins: state.failedAttempts,
        disabledAt: standing.status === 'disabled' ? standing.since : null,
        disabledReason: standing.status === 'disabled' ? standing.reason : null,
        forgottenAt: standing.status === 'forgotten' ? standing.since : null,
        dataKey: dataKey ? 'present' : 'destroyed',
      },
    };
  }
}
