import { streams } from '../../contracts/streams.js';
import type { DataKeyStore } from '../../infra/crypto/data-keys/port.js';
import type { Sealed } from '../../infra/crypto/envelope.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { openPasswordHash } from '../../services/authn/app/password-hashes.js';
import { passwordHash, type Needle } from './secret-scan.js';

/**
 * The password hashes the deployment made for these users, as needles: every hash their streams
 * ever recorded (sealed ones opened with the user's data key, as authn does at login), the PHC
 * string and its hash part. None may appear anywhere in plaintext.
 */
export async function passwordHashNeedles(store: EventStore, dataKeys: DataKeyStore, tenant: string, subs: readonly string[]): Promise<Needle[]> {
  const needles: Needle[] = [];
  for (const sub of subs) {
    const dataKey = await dataKeys.get(tenant, sub);
    if (!dataKey) throw new Error(`no data key for ${sub}`);
    const { events } = await store.readStream(streams.user(tenant, sub));
    let index = 0;
    for (const event of events) {
      const data = event.data as { passwordHash?: string; sealedPasswordHash?: Sealed };
      const stored = data.sealedPasswordHash
        ? ({ kind: 'sealed', sealed: data.sealedPasswordHash } as const)
        : data.passwordHash
          ? ({ kind: 'plaintext', phc: data.passwordHash } as const)
          : undefined;
      if (stored) needles.push(...passwordHash(`password hash #${++index} of ${sub}`, openPasswordHash(dataKey, tenant, sub, stored)));
    }
    if (index === 0) throw new Error(`no password hash recorded for ${sub}`);
  }
  return needles;
}
