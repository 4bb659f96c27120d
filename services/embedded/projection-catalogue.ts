import { EventMetadata } from '../../contracts/events/metadata.js';
import type { RecordedEvent } from '../../infra/event-store/port.js';
import type { ProjectionStore, ProjectionWrite } from '../../infra/projections/port.js';
import { eventTime } from '../../infra/projections/projector.js';
import { REDIS_BACKENDS, type RedisBackend } from '../../infra/projections/redis-acl.js';
import { AUTHN_CHECKPOINT, authnProjections } from '../authn/projections/authn.projections.js';
import { CLIENT_REGISTRY_CHECKPOINT, clientRegistryProjections } from '../client-registry/projections/client-by-id.js';
import { BACKCHANNEL_LOGOUT_CHECKPOINT } from '../token-issuer/app/backchannel-logout/sender.js';
import { addParticipant } from '../token-issuer/app/backchannel-logout/participants.js';
import { TOKEN_ISSUER_CHECKPOINT, tokenIssuerProjections } from '../token-issuer/projections/token-issuer.projections.js';

/**
 * Every projection the services keep, by the service whose namespace holds it: in distributed
 * mode each backend's Redis namespace `idp:proj:<service>:`, in embedded mode one store where the
 * key families below tell them apart. What `idp rebuild` replays and the live digests report.
 *
 * The back-channel logout sender's list of a session's clients is a projection of the log too
 * (participants.ts), kept by the token-issuer beside the others under its own checkpoint.
 */
export interface ProjectionNamespace {
  service: RedisBackend;
  /** The checkpoint of the service's projector (`project`). */
  checkpoint: string;
  project: (event: RecordedEvent) => ProjectionWrite[];
  /** Every checkpoint whose applies write this namespace: the live state is settled when they agree. */
  checkpoints: readonly string[];
  /** The first segment (before ':') of every key the namespace holds. */
  keyFamilies: readonly string[];
  /** Every event type that writes the namespace: a replay may leave the others unread. */
  types: ReadonlySet<string>;
}

/** The events the back-channel sender notes a session's clients from. */
const PARTICIPANT_TYPES = ['authorization_code.issued', 'implicit.granted'];

export const PROJECTIONS: readonly ProjectionNamespace[] = [
  {
    service: 'authn',
    checkpoint: AUTHN_CHECKPOINT,
    project: authnProjections,
    checkpoints: [AUTHN_CHECKPOINT],
    keyFamilies: ['user-by-username', 'user', 'session', 'consent', 'user-last-login', 'user-watermark'],
    types: authnProjections.types,
  },
  {
    service: 'client-registry',
    checkpoint: CLIENT_REGISTRY_CHECKPOINT,
    project: clientRegistryProjections,
    checkpoints: [CLIENT_REGISTRY_CHECKPOINT],
    keyFamilies: ['client', 'client-registration', 'client-secret', 'client-watermark'],
    types: clientRegistryProjections.types,
  },
  {
    service: 'token-issuer',
    checkpoint: TOKEN_ISSUER_CHECKPOINT,
    project: tokenIssuerProjections,
    checkpoints: [TOKEN_ISSUER_CHECKPOINT, BACKCHANNEL_LOGOUT_CHECKPOINT],
    keyFamilies: ['grant-revoked', 'client-watermark', 'user-watermark', 'session-clients'],
    types: new Set([...tokenIssuerProjections.types, ...PARTICIPANT_TYPES]),
  },
];

export const PROJECTION_NAMES: readonly RedisBackend[] = REDIS_BACKENDS;

export function projectionNamed(name: string): ProjectionNamespace | undefined {
  return PROJECTIONS.find((p) => p.service === name);
}

/** Whether `key` is one of the namespace's (in the embedded mode's one store, where all live together). */
export function inNamespace(namespace: ProjectionNamespace, key: string): boolean {
  const colon = key.indexOf(':');
  return namespace.keyFamilies.includes(colon < 0 ? key : key.slice(0, colon));
}

/**
 * Replays events, in `$all` order, into a projection store as the services' followers do: each
 * namespace's projector (advancing its checkpoint, with the event's time so that a collecting
 * store forgets what expired), and the back-channel participants with the sender's checkpoint.
 * A projection that writes a key outside its namespace's families is a bug: it throws.
 */
export class ProjectionReplay {
  private readonly namespaces: readonly ProjectionNamespace[];
  private readonly participants: boolean;

  constructor(
    private readonly store: ProjectionStore,
    options: {
      /** Default all. */
      services?: readonly RedisBackend[];
      /** The tenant whose back-channel participants the sender keeps (it serves one); default every tenant. */
      tenant?: string;
    } = {},
  ) {
    this.namespaces = PROJECTIONS.filter((p) => options.services === undefined || options.services.includes(p.service));
    this.participants = this.namespaces.some((p) => p.service === 'token-issuer');
    this.tenant = options.tenant;
  }

  private readonly tenant: string | undefined;

  /** Every event type that writes one of the replayed namespaces: events of other types change nothing. */
  get types(): ReadonlySet<string> {
    return new Set(this.namespaces.flatMap((n) => [...n.types]));
  }

  async apply(event: RecordedEvent): Promise<void> {
    const at = eventTime(event);
    for (const namespace of this.namespaces) {
      if (!namespace.types.has(event.type)) {
        // No writes: only the checkpoint moves (and the collecting clock), as the projector's would.
        await this.store.apply([], event.position, { name: namespace.checkpoint, at });
        continue;
      }
      const writes = namespace.project(event);
      for (const write of writes) {
        if (!inNamespace(namespace, write.key)) throw new Error(`projection ${namespace.service} wrote "${write.key}", outside its key families`);
      }
      await this.store.apply(writes, event.position, { name: namespace.checkpoint, at });
    }
    if (!this.participants) return;
    if (PARTICIPANT_TYPES.includes(event.type)) {
      const data = event.data as { sessionId: string; clientId: string };
      const meta = EventMetadata.parse(event.metadata);
      if (this.tenant === undefined || meta.tenant === this.tenant) {
        await addParticipant(this.store, BACKCHANNEL_LOGOUT_CHECKPOINT, {
          tenant: meta.tenant,
          sessionId: data.sessionId,
          clientId: data.clientId,
          position: event.position,
          time: Date.parse(meta.time),
        });
      }
    }
    // The sender's checkpoint follows every event it read, as the sender writes it.
    await this.store.apply([], event.position, { name: BACKCHANNEL_LOGOUT_CHECKPOINT, at });
  }
}
