import { randomBytes } from 'node:crypto';
import { startEmbeddedIdp, type IdpUnderTest } from '../support/idp-under-test.js';
import { describeTokenEndpointRaces } from './suites/races.suite.js';

/** The token endpoint races against the embedded process: one HTTP server, the SQLite log. */
const user = { username: `racer-${randomBytes(4).toString('hex')}`, password: `pw-${randomBytes(12).toString('base64url')}` };
let server: IdpUnderTest | undefined;

beforeAll(async () => {
  server = await startEmbeddedIdp({ user });
}, 60_000);

afterAll(async () => {
  await server?.stop();
}, 30_000);

describeTokenEndpointRaces(() => ({ server: server!, gateways: [server!.issuer] }), user);
