import { EXIT } from '../../../services/cli/exit-codes.js';
import { runIdp } from '../../support/cli.js';
import type { IdpUnderTest } from '../../support/idp-under-test.js';

/**
 * The last check of the end-to-end suite, in both topologies: after every flow of the run, the
 * log replayed into fresh projections (`idp rebuild --verify`, the real bin) is byte for byte the
 * live state of the deployment (the embedded server's memory, the backends' Redis namespaces).
 */
export function describeRebuildVerify(server: () => IdpUnderTest): void {
  describe('idp rebuild --verify after the whole suite', () => {
    it('rebuilds every projection from the log to exactly the live state', async () => {
      const { env, verifyArgs } = server().idp!;
      const run = await runIdp(['rebuild', '--verify', '--json', ...verifyArgs], { env, timeoutMs: 150_000 });
      if (run.code !== EXIT.ok) throw new Error(`idp rebuild --verify exited ${run.code}\n${run.stdout}\n${run.stderr}`);
      const rows = JSON.parse(run.stdout) as Array<{ projection: string; entries: number; match: boolean }>;
      expect(rows.map((r) => [r.projection, r.match])).toEqual([
        ['authn', true],
        ['client-registry', true],
        ['token-issuer', true],
      ]);
      expect(rows.every((r) => r.entries > 0)).toBe(true);
    }, 180_000);
  });
}
