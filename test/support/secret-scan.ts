import fs from 'node:fs';
import path from 'node:path';

/**
 * The secrets scan (issue 10, "Secrets"): the values a test used (needles) searched for as raw
 * bytes in everything the deployment keeps or prints (haystacks). Shared by the embedded and the
 * distributed scans.
 */

/**
 * Where a needle may legitimately be:
 * - `secret`: nowhere (passwords, tokens, codes, client secrets, password hashes, the KEK);
 * - `personal`: nowhere at rest, but in the logs (the embedded server prints the demo username);
 * - `stored-hash`: the SHA-256 of a high-entropy secret (a client secret): kept in the log and the
 *   projections by design (DESIGN §4), never on the live stream nor in a log line.
 */
export type NeedleKind = 'secret' | 'personal' | 'stored-hash';

export interface Needle {
  label: string;
  bytes: Buffer;
  kind: NeedleKind;
}

export interface Haystack {
  name: string;
  bytes: Buffer;
}

export interface Hit {
  needle: string;
  haystack: string;
  offset: number;
}

/** Every occurrence of every needle, as raw bytes. */
export function scan(haystacks: readonly Haystack[], needles: readonly Needle[]): Hit[] {
  const hits: Hit[] = [];
  for (const haystack of haystacks) {
    for (const needle of needles) {
      if (needle.bytes.length === 0) throw new Error(`empty needle ${needle.label}`);
      for (let at = haystack.bytes.indexOf(needle.bytes); at >= 0; at = haystack.bytes.indexOf(needle.bytes, at + 1)) {
        hits.push({ needle: needle.label, haystack: haystack.name, offset: at });
      }
    }
  }
  return hits;
}

export const describeHits = (hits: readonly Hit[]) => hits.map((h) => `${h.needle} in ${h.haystack} at ${h.offset}`);

/** Every regular file under `dir`, read whole, named by its path relative to `dir`. */
export function readTree(dir: string, prefix = ''): Haystack[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    const name = path.join(prefix, entry.name);
    if (entry.isDirectory()) return readTree(full, name);
    return entry.isFile() ? [{ name, bytes: fs.readFileSync(full) }] : [];
  });
}

export const text = (label: string, value: string, kind: NeedleKind = 'secret'): Needle => ({ label, bytes: Buffer.from(value, 'utf8'), kind });

/** A secret as sent on the wire and in the usual binary-to-text encodings. */
export function encodings(label: string, value: string): Needle[] {
  const bytes = Buffer.from(value, 'utf8');
  return [
    text(label, value),
    text(`${label} (form-urlencoded)`, new URLSearchParams({ v: value }).toString().slice(2)),
    text(`${label} (base64)`, bytes.toString('base64').replace(/=+$/, '')),
    text(`${label} (base64url)`, bytes.toString('base64url')),
    text(`${label} (hex)`, bytes.toString('hex')),
    text(`${label} (HEX)`, bytes.toString('hex').toUpperCase()),
  ];
}

/** `<id>.<secret>` values (codes, session tokens, access-token ids): the whole and the secret half. */
export function dotted(label: string, value: string): Needle[] {
  const dot = value.indexOf('.');
  if (dot <= 0) throw new Error(`${label} is not <id>.<secret>: ${value}`);
  return [text(label, value), text(`${label} secret part`, value.slice(dot + 1))];
}

/** Refresh tokens, `<grant id>.<generation>.<secret>`: the whole and the secret. */
export function refreshToken(label: string, value: string): Needle[] {
  const parts = value.split('.');
  if (parts.length !== 3) throw new Error(`${label} is not <grant>.<generation>.<secret>: ${value}`);
  return [text(label, value), text(`${label} secret part`, parts[2]!)];
}

/** A JWT: whole, its signature, and its `jti` when it has one (an access token id is a secret). */
export function jwt(label: string, token: string): Needle[] {
  const [, payload = '', signature = ''] = token.split('.');
  const needles = [text(label, token), text(`${label} signature`, signature)];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti?: unknown };
  if (typeof claims.jti === 'string') needles.push(...dotted(`${label} jti`, claims.jti));
  return needles;
}

/** An argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`): whole, and its hash part. */
export function passwordHash(label: string, phc: string): Needle[] {
  const parts = phc.split('$');
  const hash = parts[5];
  if (parts[1] !== 'argon2id' || !hash || hash.length < 16) throw new Error(`${label} is not an argon2id PHC string`);
  return [text(label, phc), text(`${label} hash part`, hash), text(`${label} hash part (base64url)`, Buffer.from(hash, 'base64').toString('base64url'))];
}

/** SHA-256 hex of a secret, as the log keeps a client secret (`stored-hash`). */
export function storedSha256(label: string, sha256Hex: string): Needle {
  return text(`${label} SHA-256`, sha256Hex, 'stored-hash');
}

/** The KEK: raw bytes, base64url, hex. */
export function kek(base64url: string): Needle[] {
  return [
    { label: 'KEK (raw bytes)', bytes: Buffer.from(base64url, 'base64url'), kind: 'secret' },
    text('KEK (base64url)', base64url),
    text('KEK (hex)', Buffer.from(base64url, 'base64url').toString('hex')),
  ];
}

/** The needles that must not be in a haystack of this kind. */
export function forbiddenIn(where: 'store' | 'live-stream' | 'logs', needles: readonly Needle[]): Needle[] {
  switch (where) {
    case 'store':
      return needles.filter((n) => n.kind !== 'stored-hash');
    case 'live-stream':
      return [...needles];
    case 'logs':
      return needles.filter((n) => n.kind !== 'personal');
  }
}

/**
 * What makes an empty result mean something: every needle is found when planted (in every
 * encoding searched for), so a scan that finds nothing did look. Returns the labels not found.
 */
export function unfindableNeedles(needles: readonly Needle[]): string[] {
  const planted: Haystack = { name: 'planted', bytes: Buffer.concat(needles.flatMap((n) => [Buffer.from('\0x'), n.bytes])) };
  const found = new Set(scan([planted], needles).map((h) => h.needle));
  return [...new Set(needles.map((n) => n.label))].filter((label) => !found.has(label));
}
