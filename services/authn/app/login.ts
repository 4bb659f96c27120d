import { randomUUID } from 'node:crypto';
import { ACR_PASSWORD } from '../../../contracts/acr.js';
import { AuthenticationEvent } from '../../../contracts/events/authentication.js';
import type { RequestContext } from '../../../contracts/events/metadata.js';
import { SessionEvent } from '../../../contracts/events/session.js';
import { UserEvent } from '../../../contracts/events/user.js';
import type { Login, SessionView } from '../../../contracts/messages/authn.js';
import type { ReplyOf } from '../../../contracts/messages/define.js';
import { streams } from '../../../contracts/streams.js';
import { hashPassword, needsRehash, verifyPassword, type Argon2Parameters } from '../../../infra/crypto/passwords.js';
import { randomSecret, sha256Hex } from '../../../infra/crypto/secrets.js';
import type { DataKeyStore } from '../../../infra/crypto/data-keys/port.js';
import { handleCommand, type CommandHandlerDeps } from '../../shared/app/command-handler.js';
import { authenticationDecider } from '../domain/authentication/authentication.js';
import { sessionDecider } from '../domain/session/session.js';
import { openPasswordHash, sealPasswordHash } from './password-hashes.js';
import { recordedLogin, throttledUntil, userDecider, type UserCommand, type UserState } from '../domain/user/user.js';

export interface LoginDeps {
  handlerDeps: CommandHandlerDeps;
  /** The parameters of new hashes; a stored hash with others is rehashed at a successful login. */
  argon2: Argon2Parameters | undefined;
  sessionTtlSeconds: number;
  clock: () => Date;
  /** Verified against when there is no such user, so both paths cost one argon2 verify. */
  decoyHash: Promise<string>;
  /** The users' data keys: a password hash is sealed under its owner's, and a forgotten user's is gone. */
  dataKeys: DataKeyStore;
}

export type LoginInput = {
  password: string;
  clientId: string | null;
  startSession?: boolean | undefined;
  /** The HMAC of the attempt's client IP (never the IP), or null: the throttle counts per source. */
  sourceDigest: string | null;
};

/**
 * A password login of the user `sub` (null: no such username). What it reads and writes is
 * bounded whatever the account's history (issue 8, "logins that scale"):
 *
 * - it reads the user's stream, which holds the registration, the failed attempts (the throttle
 *   bounds them), and only those successes that changed the user's state;
 * - a success is recorded once, as `authentication.succeeded`: on the user's stream when it
 *   resets a failure count or comes with a rehash (one append), else as the only event of the
 *   login's own `authentication-…` stream;
 * - then, unless `startSession` is false, `session.started` on a new session stream.
 *
 * argon2 runs once per attempt: a lost race re-reads the user's stream and decides again with the
 * verification (and the rehash, if one was needed) it already has.
 */
export async function passwordLogin(
  deps: LoginDeps,
  ctx: RequestContext,
  sub: string | null,
  input: LoginInput,
): Promise<ReplyOf<typeof Login>> {
  if (!sub) {
    await verifyPassword(await deps.decoyHash, input.password);
    return { authenticated: false };
  }
  const now = deps.clock();
  // An attempt is made by whoever typed the password, not (yet) by the user: recorded as the
  // client (or the login page) acting, so a failure never blames the account owner.
  const attemptCtx = attemptActor(ctx, input.clientId);
  let verification: Promise<boolean> | undefined;
  let rehashed: Promise<string> | undefined;
  const checkPassword = async (state: UserState): Promise<UserCommand> => {
    const command = { type: 'record_authentication' as const, clientId: input.clientId, source: input.sourceDigest, now };
    // The user is in the projection but not (yet) in the log: refused like an unknown name.
    if (state.status !== 'registered') {
      await (verification ??= verifyPassword(await deps.decoyHash, input.password));
      return { ...command, passwordMatched: false };
    }
    // A disabled or forgotten user: refused like a wrong password, unchecked and unrecorded, at the
    // cost of a checked attempt (the answer and its time do not tell that the account exists).
    if (state.standing.status !== 'active') {
      await (verification ??= verifyPassword(await deps.decoyHash, input.password).then(() => false));
      return { ...command, passwordMatched: null };
    }
    // Within the throttle's wait the password is not checked and nothing is recorded; argon2 still
    // runs once, on the decoy hash, so that a throttled attempt costs what a checked one does
    // (its answer and its time say nothing about the throttle).
    const until = throttledUntil(state, input.sourceDigest);
    if (until && now < until) {
      await (verification ??= verifyPassword(await deps.decoyHash, input.password).then(() => false));
      return { ...command, passwordMatched: null };
    }
    // A forgotten user (data key destroyed) cannot log in, even with a hash from before sealing:
    // refused unchecked and unrecorded, at the cost of a checked attempt.
    const dataKey = await deps.dataKeys.get(ctx.tenant, sub);
    if (!dataKey) {
      await (verification ??= verifyPassword(await deps.decoyHash, input.password).then(() => false));
      return { ...command, passwordMatched: null };
    }
    const phc = openPasswordHash(dataKey, ctx.tenant, sub, state.passwordHash);
    const passwordMatched = await (verification ??= verifyPassword(phc, input.password));
    // A hash with outdated parameters, or one still in plaintext (a V1 event), is replaced by a
    // new hash of the password (a new salt), sealed.
    const outdated = state.passwordHash.kind === 'plaintext' || needsRehash(phc, deps.argon2);
    if (!passwordMatched || !outdated) return { ...command, passwordMatched };
    const to = sealPasswordHash(dataKey, ctx.tenant, sub, await (rehashed ??= hashPassword(input.password, deps.argon2)));
    return { ...command, passwordMatched, rehash: { from: state.passwordHash, to } };
  };
  const { decision } = await handleCommand(deps.handlerDeps, {
    streamName: streams.user(ctx.tenant, sub),
    decider: userDecider,
    schema: UserEvent,
    command: checkPassword,
    // Failures, resets and rehashes of one account append to its stream: concurrent ones race,
    // and each lost race is only a re-read (argon2 is not run again).
    maxAttempts: LOGIN_MAX_ATTEMPTS,
    ctx: attemptCtx,
  });
  if (decision.rejection) return { authenticated: false };

  if (!recordedLogin(decision)) {
    const authenticationId = randomUUID();
    await handleCommand(deps.handlerDeps, {
      streamName: streams.authentication(ctx.tenant, authenticationId),
      decider: authenticationDecider,
      schema: AuthenticationEvent,
      command: { type: 'record_login', authenticationId, sub, clientId: input.clientId },
      ctx: attemptCtx,
    });
  }

  const facts = { sub, authTime: Math.floor(now.getTime() / 1000), acr: ACR_PASSWORD, amr: ['pwd'] };
  if (input.startSession === false) return { authenticated: true, ...facts, session: null };

  const sessionId = randomUUID();
  const secret = randomSecret();
  const expiresAt = new Date(now.getTime() + deps.sessionTtlSeconds * 1000).toISOString();
  const session: SessionView = { sessionId, ...facts };
  await handleCommand(deps.handlerDeps, {
    streamName: streams.session(ctx.tenant, sessionId),
    decider: sessionDecider,
    schema: SessionEvent,
    command: { type: 'start_session', ...session, secretHash: sha256Hex(secret), expiresAt },
    ctx: { ...ctx, actor: { kind: 'user', id: sub } },
  });
  return { authenticated: true, ...facts, session, sessionToken: `${sessionId}.${secret}`, expiresAt };
}

/** Enough for dozens of concurrent logins of one account; each retry is a stream read. */
const LOGIN_MAX_ATTEMPTS = 100;

/** Who a password attempt is recorded as: the party that asked, with the subject in the data. */
function attemptActor(ctx: RequestContext, clientId: string | null): RequestContext {
  return { ...ctx, actor: clientId ? { kind: 'client', id: clientId } : { kind: 'system', id: 'login-form' } };
}
