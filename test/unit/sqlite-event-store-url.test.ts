import { resolve } from 'node:path';
import { EventStoreUrl } from '../../infra/config/adapter-urls.js';
import { loadEmbeddedConfig } from '../../services/embedded/config.js';
import { ServiceEnv } from '../../services/shared/adapters/service-config.js';

/**
 * `EVENT_STORE_URL=sqlite:<path>[?synchronous=full|normal]`: the durability of the SQLite log
 * is chosen in its URL, FULL unless the operator asks for NORMAL, and a value or option the
 * parser does not know stops start-up with a message naming what is accepted.
 */
describe('EVENT_STORE_URL sqlite:', () => {
  const messages = (url: string) => {
    const parsed = EventStoreUrl.safeParse(url);
    return parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
  };

  test('without options: synchronous FULL, path resolved', () => {
    expect(EventStoreUrl.parse('sqlite:./data/idp.db')).toEqual({ kind: 'sqlite', path: resolve('data/idp.db'), synchronous: 'full' });
  });

  test('?synchronous=normal or =full (any case) picks the level; the query is not part of the path', () => {
    expect(EventStoreUrl.parse('sqlite:./data/idp.db?synchronous=normal')).toEqual({
      kind: 'sqlite',
      path: resolve('data/idp.db'),
      synchronous: 'normal',
    });
    expect(EventStoreUrl.parse('sqlite:/var/idp/log.db?synchronous=FULL')).toEqual({ kind: 'sqlite', path: '/var/idp/log.db', synchronous: 'full' });
    expect(EventStoreUrl.parse('sqlite:/var/idp/log.db?')).toMatchObject({ path: '/var/idp/log.db', synchronous: 'full' });
  });

  test('an unknown level or option is refused, naming the accepted ones', () => {
    expect(messages('sqlite:./idp.db?synchronous=off')).toEqual([
      'unsupported SQLite synchronous "off": use full or normal in EVENT_STORE_URL "sqlite:./idp.db?synchronous=off"',
    ]);
    expect(messages('sqlite:./idp.db?synchronous=')).toEqual([expect.stringContaining('use full or normal')]);
    expect(messages('sqlite:./idp.db?sync=normal')).toEqual([
      'unsupported option "sync" in EVENT_STORE_URL "sqlite:./idp.db?sync=normal": sqlite: accepts only ?synchronous=full|normal',
    ]);
    expect(messages('sqlite:?synchronous=full')).toEqual([expect.stringMatching(/^unsupported EVENT_STORE_URL/)]);
  });

  test('the embedded server defaults to FULL and stops on a bad level', () => {
    expect(loadEmbeddedConfig({}).eventStore).toEqual({ kind: 'sqlite', path: resolve('data/idp.db'), synchronous: 'full' });
    expect(loadEmbeddedConfig({ EVENT_STORE_URL: 'sqlite:./x.db?synchronous=normal' }).eventStore).toMatchObject({ synchronous: 'normal' });
    expect(() => loadEmbeddedConfig({ EVENT_STORE_URL: 'sqlite:./x.db?synchronous=extra' })).toThrow(
      /invalid configuration:\n {2}EVENT_STORE_URL: unsupported SQLite synchronous "extra": use full or normal/,
    );
  });

  test('the per-service processes parse the same URL', () => {
    const parsed = ServiceEnv.shape.EVENT_STORE_URL.safeParse('sqlite:./x.db?synchronous=bogus');
    expect(parsed.success).toBe(false);
    expect(ServiceEnv.shape.EVENT_STORE_URL.parse('sqlite:./x.db')).toMatchObject({ kind: 'sqlite', synchronous: 'full' });
  });
});
