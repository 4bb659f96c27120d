import { ALL_MESSAGES } from '../../contracts/messages/index.js';
import { GrantTokens, IssueAuthorization } from '../../contracts/messages/token-issuer.js';
import { STREAM_OWNERS, streams, type Aggregate } from '../../contracts/streams.js';
import {
  NATS_IDENTITIES,
  inboxPrefixOf,
  natsServerPermissions,
  permissionTable,
  streamPrefixOf,
  type NatsIdentity,
  type NatsPermissions,
} from '../../infra/bus/permissions.js';
import { logSubject } from '../../infra/event-store/jetstream-subjects.js';

/** NATS subject matching: `*` is one token, `>` one or more at the end. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

const canPublish = (permissions: NatsPermissions, subject: string) => permissions.publish.some((p) => matches(p, subject));

/** A subscription to `subject`, in `queue` or none: "subject queue" entries allow only that group. */
function canSubscribe(permissions: NatsPermissions, subject: string, queue?: string): boolean {
  return permissions.subscribe.some((entry) => {
    const [pattern, onlyQueue] = entry.split(' ');
    return matches(pattern!, subject) && (onlyQueue === undefined || onlyQueue === queue);
  });
}

const table = permissionTable();
const identities = [...NATS_IDENTITIES];
const who = (allowed: (identity: NatsIdentity) => boolean) => identities.filter(allowed).sort();

describe('NATS permissions derived from the contracts', () => {
  it.each(ALL_MESSAGES.map((m) => [m.subject, m] as const))('%s: exactly its callers publish it, exactly its service serves it, in its queue', (subject, m) => {
    expect(who((id) => canPublish(table[id], subject))).toEqual([...m.callers].sort());
    expect(who((id) => canSubscribe(table[id], subject, m.queue))).toEqual([m.queue]);
    // Nobody listens outside the queue group, nor in another group (a stranger's "authn" group included).
    expect(who((id) => canSubscribe(table[id], subject))).toEqual([]);
    expect(who((id) => canSubscribe(table[id], subject, 'eavesdroppers'))).toEqual([]);
  });

  it.each(Object.keys(STREAM_OWNERS) as Aggregate[])('the log streams of %s are written by their owner alone', (aggregate) => {
    const name = (streams[aggregate] as (...args: string[]) => string)('default', 'id1', 'id2');
    const subject = logSubject('idp.log', name);
    expect(subject.startsWith(`idp.log.${streamPrefixOf(aggregate)}.`)).toBe(true);
    expect(who((id) => canPublish(table[id], subject))).toEqual([STREAM_OWNERS[aggregate]]);
  });

  it('a stream name without an aggregate prefix is written by nobody', () => {
    expect(who((id) => canPublish(table[id], logSubject('idp.log', 'Strange.Name')))).toEqual([]);
    expect(who((id) => canPublish(table[id], 'idp.log.grant-default-1'))).toEqual([]); // the old one-token scheme
  });

  it('each identity reads its own inbox and nobody else reads it; nobody publishes on an inbox', () => {
    for (const identity of identities.filter((id) => id !== 'events-reader')) {
      const reply = `${inboxPrefixOf(identity)}.abc.1`;
      expect(who((id) => canSubscribe(table[id], reply))).toEqual([identity]);
      expect(who((id) => canPublish(table[id], reply))).toEqual([]);
    }
    expect(who((id) => canSubscribe(table[id], '_INBOX.abc'))).toEqual([]);
    expect(who((id) => table[id].allowResponses)).toEqual(['authn', 'client-registry', 'token-issuer']);
  });

  it('the gateway has no JetStream, no KV, no log and no live stream; it subscribes to its inbox alone', () => {
    const gateway = table.gateway;
    expect(gateway.publish.filter((s) => /^(\$JS|\$KV|idp\.log|idp\.events)/.test(s))).toEqual([]);
    expect(gateway.subscribe).toEqual(['_INBOX_gateway.>']);
  });

  it('events-reader subscribes to idp.events.> and publishes nothing, which nats-server is told as a deny of >', () => {
    expect(table['events-reader']).toEqual({ publish: [], subscribe: ['idp.events.>'], allowResponses: false });
    expect(natsServerPermissions(table['events-reader'])).toEqual({ publish: { deny: ['>'] }, subscribe: { allow: ['idp.events.>'] } });
    expect(natsServerPermissions(table.authn)).toMatchObject({ allow_responses: true, publish: { allow: table.authn.publish } });
  });

  it('nothing destructive on JetStream: no stream delete, update or purge, no message delete, no wildcard over the API', () => {
    for (const identity of identities) {
      for (const subject of table[identity].publish) {
        expect(subject).not.toMatch(/STREAM\.(DELETE|UPDATE|PURGE|MSG\.DELETE)|^\$JS\.API\.>$|^>$|^\$JS\.API\.\*|^\$JS\.API\.(STREAM|CONSUMER)\.[>*]/);
      }
    }
    for (const stream of ['IDP_LOG', 'IDP_EVENTS', 'KV_idp_leases', 'KV_idp_data_keys']) {
      for (const verb of ['DELETE', 'UPDATE', 'PURGE', 'MSG.DELETE']) {
        expect(who((id) => canPublish(table[id], `$JS.API.STREAM.${verb}.${stream}`))).toEqual([]);
      }
    }
  });

  it('JetStream where it is used: the log read by backends and admin, the data keys by authn alone, the leases by the backends', () => {
    expect(who((id) => canPublish(table[id], '$JS.API.STREAM.MSG.GET.IDP_LOG'))).toEqual(['admin', 'authn', 'client-registry', 'token-issuer']);
    expect(who((id) => canPublish(table[id], '$JS.API.STREAM.CREATE.IDP_LOG'))).toEqual(['authn', 'client-registry', 'token-issuer']);
    expect(who((id) => canPublish(table[id], '$KV.idp_data_keys.default.abc'))).toEqual(['authn']);
    expect(who((id) => canPublish(table[id], '$JS.API.DIRECT.GET.KV_idp_data_keys.$KV.idp_data_keys.default.abc'))).toEqual(['authn']);
    expect(who((id) => canPublish(table[id], '$KV.idp_leases.event-relay'))).toEqual(['authn', 'client-registry', 'token-issuer']);
    expect(who((id) => canPublish(table[id], 'idp.events.default.grant.tokens.issued'))).toEqual(['authn', 'client-registry', 'token-issuer']);
    expect(who((id) => canSubscribe(table[id], 'idp.events.default.grant.tokens.issued'))).toEqual(['events-reader']);
  });

  it('the table follows the contracts: a caller added, a message gone, an owner changed', () => {
    const withAdmin = ALL_MESSAGES.map((m) => (m.subject === GrantTokens.subject ? { ...m, callers: [...m.callers, 'admin' as const] } : m));
    const changed = permissionTable({ messages: withAdmin, streamOwners: STREAM_OWNERS });
    expect(canPublish(table.admin, GrantTokens.subject)).toBe(false);
    expect(canPublish(changed.admin, GrantTokens.subject)).toBe(true);

    const without = permissionTable({ messages: ALL_MESSAGES.filter((m) => m.subject !== IssueAuthorization.subject), streamOwners: STREAM_OWNERS });
    expect(who((id) => canPublish(without[id], IssueAuthorization.subject))).toEqual([]);
    expect(who((id) => canSubscribe(without[id], IssueAuthorization.subject, 'token-issuer'))).toEqual([]);

    const moved = permissionTable({ messages: ALL_MESSAGES, streamOwners: { ...STREAM_OWNERS, keyring: 'authn' } });
    expect(who((id) => canPublish(moved[id], logSubject('idp.log', streams.keyring('default'))))).toEqual(['authn']);
  });
});
