import { aggregateOfStream, STREAM_OWNERS, STREAM_PREFIXES, streamOwner, streams, type Aggregate } from '../../contracts/streams.js';

/** contracts/streams.ts: every stream name leads back to its aggregate and to the one service that writes it. */
describe('stream owners', () => {
  const aggregates = Object.keys(streams) as Aggregate[];

  it('every aggregate has its own prefix', () => {
    expect(new Set(aggregates.map((a) => STREAM_PREFIXES[a])).size).toBe(aggregates.length);
    expect(STREAM_PREFIXES).toMatchObject({ refreshToken: 'refresh_token', backchannelLogout: 'backchannel_logout', keyring: 'keyring' });
  });

  it.each(aggregates)('a %s stream name is read back as its aggregate and owner', (aggregate) => {
    const name = (streams[aggregate] as (...args: unknown[]) => string)('acme', 'id-1', 3, 'client-1');
    expect(aggregateOfStream(name)).toBe(aggregate);
    expect(streamOwner(name)).toBe(STREAM_OWNERS[aggregate]);
  });

  it('a name no aggregate writes has no owner', () => {
    expect(streamOwner('ledger-acme-1')).toBeNull();
    expect(streamOwner('NoTenantHere')).toBeNull();
    expect(streamOwner('')).toBeNull();
  });
});
