/**
 * Access tokens whose signature this token-issuer has verified (issue 12: an ES256 verification
 * is most of what an introspection costs, and a resource server introspects the same token
 * again and again). Keyed by the whole token text, so only the very bytes that verified hit:
 * a token changed in any way is verified afresh. A hit still has to pass everything that can
 * change after issuance, which the caller checks every time: the key still being in the
 * keyring (a revoked key ends its tokens at once), the expiry by the clock, the grant's
 * revocation and the watermarks.
 *
 * Bounded: the oldest entry goes when it is full, and an expired one when it is met.
 */
export interface VerifiedClaims {
  kid: string;
  payload: Record<string, unknown>;
  /** Seconds since the epoch. */
  exp: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedClaims>();

  constructor(private readonly capacity = 10_000) {}

  get(token: string, nowSeconds: number): VerifiedClaims | undefined {
    const found = this.entries.get(token);
    if (found === undefined) return undefined;
    if (nowSeconds >= found.exp) {
      this.entries.delete(token);
      return undefined;
    }
    return found;
  }

  set(token: string, claims: VerifiedClaims): void {
    if (this.capacity <= 0) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, claims);
  }

  get size(): number {
    return this.entries.size;
  }
}
