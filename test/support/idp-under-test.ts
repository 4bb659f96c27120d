import fs from 'node:fs';
import { startDistributed } from './distributed-topology.js';
import { startEmbeddedProcess } from './embedded-process.js';

/**
 * One IdP deployment under test, whatever its topology: the end-to-end suites take a StartIdp
 * and run unchanged against the embedded process and the distributed services.
 */
export interface IdpUnderTest {
  issuer: string;
  logs(): string;
  stop(): Promise<void>;
  /** Distributed only: the NATS server (bus, JetStream log, live event stream). */
  natsUrl?: string;
}

export type StartIdp = (options: {
  /** A user that must exist (the demo user embedded; registered over the bus distributed). */
  user?: { username: string; password: string };
  env?: Record<string, string>;
}) => Promise<IdpUnderTest>;

export const startEmbeddedIdp: StartIdp = async ({ user, env }) => {
  const process = await startEmbeddedProcess({
    env: user ? { IDP_DEMO_USERNAME: user.username, IDP_DEMO_PASSWORD: user.password, ...env } : { IDP_DEMO: 'off', ...env },
  });
  return {
    issuer: process.issuer,
    logs: process.logs,
    async stop() {
      await process.stop();
      fs.rmSync(process.dataDir, { recursive: true, force: true });
    },
  };
};

export const startDistributedIdp: StartIdp = async ({ user, env }) => {
  // Named like the embedded demo user, so both topologies answer userinfo alike.
  const topology = await startDistributed({ ...(env ? { env } : {}), ...(user ? { user: { ...user, name: 'Demo User' } } : {}) });
  return { issuer: topology.issuer, logs: topology.logs, stop: topology.stop, natsUrl: topology.natsUrl };
};
