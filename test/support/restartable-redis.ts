import { startRestartableServer, type RestartableServer } from './restartable-server.js';

export type RestartableRedis = RestartableServer;

/**
 * A redis-server the test can stop and start again keeping its data (an append-only file fsynced
 * on every write, like a Redis that was unreachable for a while) or losing it (an empty restart).
 */
export function startRestartableRedis(): Promise<RestartableRedis> {
  return startRestartableServer({
    binary: 'redis-server',
    install: 'Debian: apt-get install -y redis-server',
    scheme: 'redis',
    args: (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
  });
}
