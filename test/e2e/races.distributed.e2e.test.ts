import { randomBytes } from 'node:crypto';
import { startDistributedIdp, type IdpUnderTest } from '../support/idp-under-test.js';
import { describeTokenEndpointRaces } from './suites/races.suite.js';

/**
 * The token endpoint races against the distributed services with two gateways and two
 * token-issuers (one queue group): the racers go round-robin to both gateways, NATS spreads them
 * over both token-issuers, and only the JetStream log's expected-version append decides.
 */
const user = { username: `racer-${randomBytes(4).toString('hex')}`, password: `pw-${randomBytes(12).toString('base64url')}` };
let server: IdpUnderTest | undefined;
let gateways: string[] = [];
const extras: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  server = await startDistributedIdp({ user });
  const topology = server.topology!;
  const secondGateway = await topology.startExtraGateway();
  extras.push(secondGateway);
  extras.push(await topology.startReplica('token-issuer'));
  gateways = [server.issuer, secondGateway.url];
}, 120_000);

afterAll(async () => {
  for (const extra of extras) await extra.stop();
  await server?.stop();
}, 60_000);

describeTokenEndpointRaces(() => ({ server: server!, gateways }), user);
