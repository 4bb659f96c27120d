import { isRecord, textField, type LogEvent } from './log-event.js';
import { addWatermark, watermarkCovers, watermarkOf, type Watermark } from './watermarks.js';

/**
 * `idp as-of`: which tokens were valid at an instant, from the log alone. A pure fold: events in
 * `$all` order go in (`apply`), one record per grant and per token comes out with what ended it,
 * and `validAt(instant)` reads each token's validity then. It keeps only the grants the question
 * is about (a user's, a client's, a token's), plus the watermarks and signing keys, which are few.
 *
 * A token is valid at T when it was issued at or before T, has not expired by T, and nothing that
 * happened at or before T ended it: its grant's revocation (`grant.revoked`: a revocation request,
 * a replayed code, a reused refresh token, an administrator), its own rotation (a refresh token),
 * a watermark covering it (watermarks.ts), or, for an access token, the revocation of the ES256 key
 * that was active when it was signed (`signing_key.revoked`).
 */
export type AsOfQuestion =
  | { kind: 'user'; sub: string }
  | { kind: 'client'; clientId: string }
  /** An access token by its jti `<grant id>.<secret>`: the log holds the secret's SHA-256 only. */
  | { kind: 'token'; grantId: string; accessTokenIdHash: string };

export interface TokenRecord {
  kind: 'access' | 'refresh';
  grantId: string;
  grantType: string;
  clientId: string;
  /** The user; null for a client credentials grant (no user). */
  sub: string | null;
  scope: string;
  /** Refresh tokens: the generation in the lineage (0 the first). */
  generation?: number;
  issuedAt: number;
  expiresAt: number;
  /** What watermarks compare: an access token's issue time; a refresh token's lineage start (the token-issuer's rule). */
  watermarkIssuedAt: number;
  /** SHA-256 of the access token's jti secret: to find `--token`, never printed. */
  idHash?: string;
  /** A refresh token's own end: its rotation. */
  rotated?: { at: number; actor: string; correlationId: string };
}

interface GrantRecord {
  grantId: string;
  grantType: string;
  clientId: string;
  sub: string | null;
  scope: string;
  revoked?: { at: number; actor: string; reason: string; correlationId: string };
  lineage?: { startedAt: number; absoluteExpiresAt: number };
  tokens: TokenRecord[];
}

/** Why a token was not valid at the instant; the earliest cause that applied. */
export type Invalidity =
  | { kind: 'expired'; at: number }
  | { kind: 'revoked'; at: number; actor: string; reason: string; correlationId: string }
  | { kind: 'rotated'; at: number; actor: string; correlationId: string }
  | { kind: 'watermark'; at: number; type: string; actor: string; correlationId: string }
  | { kind: 'signing_key_revoked'; at: number; kid: string; actor: string; correlationId: string };

export interface TokenValidity {
  token: TokenRecord;
  valid: boolean;
  /** Every cause that ended the token by the instant, earliest first; empty when valid. */
  invalidBecause: Invalidity[];
  /** The ES256 key that was active when an access token was signed, if the log says. */
  signedBy?: string;
}

interface KeyActivation {
  kid: string;
  activatesAt: number;
  position: number;
}

const ms = (value: unknown): number | undefined => {
  if (typeof value !== 'string') return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
};

/** The events that begin a grant, and the kind of grant each begins. */
const GRANT_STARTS: Readonly<Record<string, string>> = {
  'authorization_code.issued': 'authorization_code',
  'implicit.granted': 'implicit',
  'client_credentials.granted': 'client_credentials',
  'password.granted': 'password',
};

export class AsOfFold {
  private readonly grants = new Map<string, GrantRecord>();
  private readonly watermarks: Watermark[] = [];
  private readonly keyActivations: KeyActivation[] = [];
  private readonly keyRevocations = new Map<string, { at: number; actor: string; correlationId: string }>();
  /** Whether the log names what the question is about at all (else: not found). */
  mentioned = false;

  constructor(private readonly question: AsOfQuestion) {}

  apply(event: LogEvent): void {
    const { data } = event;
    this.notice(event);
    const mark = watermarkOf(event);
    if (mark) addWatermark(this.watermarks, mark);
    const grantType = Object.hasOwn(GRANT_STARTS, event.type) ? GRANT_STARTS[event.type] : undefined;
    if (grantType !== undefined) this.startGrant(event, grantType);
    const grantId = textField(data, 'grantId');
    const grant = grantId === undefined ? undefined : this.grants.get(grantId);
    switch (event.type) {
      case 'signing_key.generated':
        if (data.alg === 'ES256' && typeof data.kid === 'string') {
          this.keyActivations.push({ kid: data.kid, activatesAt: ms(data.activatesAt) ?? event.time, position: event.position });
        }
        return;
      case 'signing_key.revoked':
        if (typeof data.kid === 'string' && !this.keyRevocations.has(data.kid)) {
          this.keyRevocations.set(data.kid, { at: ms(data.revokedAt) ?? event.time, actor: event.actor, correlationId: event.correlationId });
        }
        return;
    }
    if (!grant) return;
    switch (event.type) {
      case 'authorization_code.issued': {
        const front = isRecord(data.frontChannel) && isRecord(data.frontChannel.accessToken) ? data.frontChannel.accessToken : undefined;
        if (front) this.addAccess(grant, event, front, grant.scope);
        return;
      }
      case 'implicit.granted':
        if (isRecord(data.accessToken)) this.addAccess(grant, event, data.accessToken, grant.scope);
        return;
      case 'tokens.issued':
      case 'password.granted':
        grant.scope = textField(data, 'scope') ?? grant.scope;
        this.addAccess(grant, event, data, grant.scope);
        if (isRecord(data.refreshToken)) this.addFirstRefresh(grant, data.refreshToken);
        return;
      case 'client_credentials.granted':
        this.addAccess(grant, event, data, grant.scope);
        return;
      case 'refresh_token.rotated':
        this.rotate(grant, event);
        return;
      case 'refresh_token.rotation_repeated':
        this.addAccess(grant, event, data, textField(data, 'scope') ?? grant.scope);
        return;
      case 'grant.revoked':
        grant.revoked ??= { at: event.time, actor: event.actor, reason: textField(data, 'reason') ?? 'unknown', correlationId: event.correlationId };
        return;
    }
  }

  /** Every token the question is about, issued at or before `instant`, with its validity then. */
  validAt(instant: number): TokenValidity[] {
    const out: TokenValidity[] = [];
    for (const grant of this.grants.values()) {
      for (const token of grant.tokens) {
        if (token.issuedAt > instant) continue;
        if (this.question.kind === 'token' && token.idHash !== this.question.accessTokenIdHash) continue;
        out.push(this.validity(grant, token, instant));
      }
    }
    return out.sort((a, b) => a.token.issuedAt - b.token.issuedAt);
  }

  /** Whether the question's access token (`--token`) is in the log at all, whenever issued. */
  hasToken(): boolean {
    if (this.question.kind !== 'token') return false;
    const hash = this.question.accessTokenIdHash;
    return [...this.grants.values()].some((grant) => grant.tokens.some((token) => token.idHash === hash));
  }

  private validity(grant: GrantRecord, token: TokenRecord, instant: number): TokenValidity {
    const causes: Invalidity[] = [];
    if (token.expiresAt <= instant) causes.push({ kind: 'expired', at: token.expiresAt });
    if (grant.revoked && grant.revoked.at <= instant) causes.push({ kind: 'revoked', ...grant.revoked });
    if (token.rotated && token.rotated.at <= instant) causes.push({ kind: 'rotated', ...token.rotated });
    const coveredBy = { clientId: token.clientId, sub: token.sub, issuedAt: token.watermarkIssuedAt };
    for (const mark of this.watermarks) {
      if (mark.at <= instant && watermarkCovers(mark, coveredBy)) {
        causes.push({ kind: 'watermark', at: mark.at, type: mark.type, actor: mark.actor, correlationId: mark.correlationId });
      }
    }
    const signedBy = token.kind === 'access' ? this.activeKeyAt(token.issuedAt) : undefined;
    const keyRevoked = signedBy === undefined ? undefined : this.keyRevocations.get(signedBy);
    if (signedBy !== undefined && keyRevoked && keyRevoked.at <= instant) {
      causes.push({ kind: 'signing_key_revoked', kid: signedBy, ...keyRevoked });
    }
    causes.sort((a, b) => a.at - b.at);
    return { token, valid: causes.length === 0, invalidBecause: causes, ...(signedBy !== undefined ? { signedBy } : {}) };
  }

  /**
   * The ES256 key that signed at `time`: of the keys not revoked by then, the one activated last
   * at or before it (later in the log on a tie), as the keyring picks its signer.
   */
  private activeKeyAt(time: number): string | undefined {
    let active: KeyActivation | undefined;
    for (const key of this.keyActivations) {
      if (key.activatesAt > time) continue;
      const revoked = this.keyRevocations.get(key.kid);
      if (revoked && revoked.at <= time) continue;
      if (!active || key.activatesAt > active.activatesAt || (key.activatesAt === active.activatesAt && key.position > active.position)) active = key;
    }
    return active?.kid;
  }

  private notice(event: LogEvent): void {
    if (this.mentioned) return;
    const q = this.question;
    if (q.kind === 'user') this.mentioned = textField(event.data, 'sub') === q.sub;
    else if (q.kind === 'client') this.mentioned = textField(event.data, 'clientId') === q.clientId;
  }

  private startGrant(event: LogEvent, grantType: string): void {
    const grantId = textField(event.data, 'grantId');
    const clientId = textField(event.data, 'clientId');
    if (grantId === undefined || clientId === undefined || this.grants.has(grantId)) return;
    const sub = grantType === 'client_credentials' ? null : (textField(event.data, 'sub') ?? null);
    const q = this.question;
    const wanted = q.kind === 'user' ? sub === q.sub : q.kind === 'client' ? clientId === q.clientId : grantId === q.grantId;
    if (!wanted) return;
    this.grants.set(grantId, { grantId, grantType, clientId, sub, scope: textField(event.data, 'scope') ?? '', tokens: [] });
  }

  private addAccess(grant: GrantRecord, event: LogEvent, issue: Readonly<Record<string, unknown>>, scope: string): void {
    const expiresAt = ms(issue.accessTokenExpiresAt);
    if (expiresAt === undefined) return;
    grant.tokens.push({
      ...this.tokenOf(grant, 'access', scope),
      issuedAt: event.time,
      expiresAt,
      watermarkIssuedAt: event.time,
      ...(typeof issue.accessTokenIdHash === 'string' ? { idHash: issue.accessTokenIdHash } : {}),
    });
  }

  private addFirstRefresh(grant: GrantRecord, issue: Readonly<Record<string, unknown>>): void {
    const issuedAt = ms(issue.issuedAt);
    const idle = ms(issue.idleExpiresAt);
    const absolute = ms(issue.absoluteExpiresAt);
    if (issuedAt === undefined || idle === undefined || absolute === undefined) return;
    grant.lineage = { startedAt: issuedAt, absoluteExpiresAt: absolute };
    grant.tokens.push({ ...this.tokenOf(grant, 'refresh', grant.scope), generation: 0, issuedAt, expiresAt: Math.min(idle, absolute), watermarkIssuedAt: issuedAt });
  }

  private rotate(grant: GrantRecord, event: LogEvent): void {
    const { data } = event;
    const rotatedAt = ms(data.rotatedAt) ?? event.time;
    const used = grant.tokens.find((t) => t.kind === 'refresh' && t.generation === data.generation);
    if (used && !used.rotated) used.rotated = { at: rotatedAt, actor: event.actor, correlationId: event.correlationId };
    this.addAccess(grant, event, data, textField(data, 'scope') ?? grant.scope);
    const successor = isRecord(data.successor) ? data.successor : undefined;
    const idle = ms(successor?.idleExpiresAt);
    if (!successor || typeof successor.generation !== 'number' || idle === undefined || !grant.lineage) return;
    grant.tokens.push({
      ...this.tokenOf(grant, 'refresh', grant.scope),
      generation: successor.generation,
      issuedAt: rotatedAt,
      expiresAt: Math.min(idle, grant.lineage.absoluteExpiresAt),
      watermarkIssuedAt: grant.lineage.startedAt,
    });
  }

  private tokenOf(grant: GrantRecord, kind: TokenRecord['kind'], scope: string) {
    return { kind, grantId: grant.grantId, grantType: grant.grantType, clientId: grant.clientId, sub: grant.sub, scope };
  }
}
