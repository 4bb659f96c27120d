import type { ProjectionStore } from '../../../../infra/projections/port.js';

/**
 * Which clients took part in a session: those issued a code (and so tokens) under it. Kept by
 * the back-channel logout sender in its projection store, one key per session listing the
 * client ids. A set that only grows, written at each event's position: a sender replaying an
 * older event reads a set that already holds it, and its write at the older position is
 * ignored, so any order of replicas and replays ends with the same set. Entries expire a day
 * after the last code of the session (sessions last 8 h): an older session's logout tells no one.
 */
export const PARTICIPANTS_TTL_MS = 24 * 3600_000;

export const participantsKey = (tenant: string, sessionId: string) => `session-clients:${tenant}:${sessionId}`;

export async function addParticipant(
  store: ProjectionStore,
  checkpoint: string,
  at: { tenant: string; sessionId: string; clientId: string; position: number; time: number },
): Promise<void> {
  const key = participantsKey(at.tenant, at.sessionId);
  // Read as of the event's time, not the wall clock: a replay of the log long after builds the same set.
  const known = (await store.get<string[]>(key, at.time)) ?? [];
  if (known.includes(at.clientId)) return;
  await store.apply([{ kind: 'put', key, value: [...known, at.clientId], expiresAt: at.time + PARTICIPANTS_TTL_MS }], at.position, {
    name: checkpoint,
    advance: false,
    at: at.time,
  });
}

export async function participantsOf(store: ProjectionStore, tenant: string, sessionId: string): Promise<string[]> {
  return (await store.get<string[]>(participantsKey(tenant, sessionId))) ?? [];
}
