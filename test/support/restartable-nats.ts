import { startRestartableServer, type RestartableServer } from './restartable-server.js';

export type RestartableNats = RestartableServer;

/** A nats-server with JetStream the test can restart; its streams survive (same store directory). */
export function startRestartableNats(): Promise<RestartableNats> {
  return startRestartableServer({
    binary: 'nats-server',
    install: 'Debian: apt-get install -y nats-server',
    scheme: 'nats',
    args: (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
  });
}
