import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export interface LiveEntry {
  key: string;
  value: unknown;
  expiresAt?: number;
}

/**
 * SHA-256 (hex) over the live entries sorted by key, each as [key, canonical JSON, expiresAt].
 * Positions are left out on purpose: two stores that reached the same state through different
 * histories must compare equal. Any adapter can feed its live entries here to stay comparable.
 */
export function digestLiveEntries(entries: Iterable<LiveEntry>): string {
  const rows = [...entries]
    .map((e): [string, string, number | null] => [e.key, canonicalize(e.value) ?? 'null', e.expiresAt ?? null])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
}
