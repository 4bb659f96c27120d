import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A loopback TCP proxy in front of a server, for tests of lost acknowledgements: it forwards both
 * ways until armed, then watches what clients send and, when a chunk matches, cuts the connection
 * at the worst moment (the request reached the server, the reply never reaches the client).
 */
export interface TcpProxy {
  /** `<scheme>://127.0.0.1:<port>` */
  url: string;
  /**
   * The next client chunk that matches `pattern` (tested on what the connection sent since, so a
   * match split across chunks is found) triggers a cut of that connection: from then on nothing
   * from the server reaches the client, and after `cutAfter` (milliseconds, or once a promise
   * settles) both sockets are destroyed. With `forward: false` the matching chunk is dropped
   * instead of sent to the server. Resolves `triggered` when the match is seen and `cut` when the
   * sockets are gone. One shot.
   */
  arm(
    pattern: RegExp,
    options?: { cutAfter?: number | Promise<unknown>; forward?: boolean },
  ): { triggered: Promise<void>; cut: Promise<void> };
  /** Destroys every connection and refuses new ones until `resume()`: the server is "down". */
  suspend(): void;
  resume(): Promise<void>;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** How much of a connection's recent client bytes a pattern is tested against. */
const WINDOW = 4096;

interface Pipe {
  client: Socket;
  server: Socket;
  /** Server bytes are dropped (the cut has begun). */
  muted: boolean;
  recent: string;
}

interface Trap {
  pattern: RegExp;
  cutAfter: number | Promise<unknown>;
  forward: boolean;
  onTriggered: () => void;
  onCut: () => void;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { protocol, hostname, port } = new URL(target);
  const pipes = new Set<Pipe>();
  let trap: Trap | undefined;
  let accepted = 0;
  let listener: Server | undefined;
  let listenPort = 0;

  const destroy = (pipe: Pipe) => {
    pipe.client.destroy();
    pipe.server.destroy();
    pipes.delete(pipe);
  };

  const onConnection = (client: Socket) => {
    accepted++;
    const server = connectTcp({ host: hostname, port: Number(port) });
    const pipe: Pipe = { client, server, muted: false, recent: '' };
    pipes.add(pipe);
    client.on('data', (chunk: Buffer) => {
      pipe.recent = (pipe.recent + chunk.toString('latin1')).slice(-WINDOW);
      const sprung = trap !== undefined && trap.pattern.test(pipe.recent) ? trap : undefined;
      if (sprung === undefined) {
        server.write(chunk);
        return;
      }
      trap = undefined;
      // Muted before the request goes on, so that not even a fast reply gets back.
      pipe.muted = true;
      if (sprung.forward) server.write(chunk);
      sprung.onTriggered();
      const wait = typeof sprung.cutAfter === 'number' ? sleep(sprung.cutAfter) : sprung.cutAfter;
      void wait
        .catch(() => undefined)
        .then(() => {
          destroy(pipe);
          sprung.onCut();
        });
    });
    server.on('data', (chunk: Buffer) => {
      if (!pipe.muted) client.write(chunk);
    });
    const end = () => destroy(pipe);
    client.on('error', end);
    server.on('error', end);
    client.on('close', end);
    server.on('close', end);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const server = createServer(onConnection);
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => {
        listener = server;
        const address = server.address();
        if (typeof address === 'object' && address) listenPort = address.port;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (listener === undefined) return resolve();
      listener.close(() => resolve());
      listener = undefined;
    });

  await listen();
  return {
    url: `${protocol}//127.0.0.1:${listenPort}`,
    arm(pattern, { cutAfter = 100, forward = true } = {}) {
      let onTriggered!: () => void;
      let onCut!: () => void;
      const triggered = new Promise<void>((resolve) => (onTriggered = resolve));
      const cut = new Promise<void>((resolve) => (onCut = resolve));
      // Only what is sent from now on can spring it.
      for (const pipe of pipes) pipe.recent = '';
      trap = { pattern, cutAfter, forward, onTriggered, onCut };
      return { triggered, cut };
    },
    suspend() {
      void stopListening();
      for (const pipe of [...pipes]) destroy(pipe);
    },
    async resume() {
      if (listener === undefined) await listen();
    },
    get accepted() {
      return accepted;
    },
    async close() {
      for (const pipe of [...pipes]) destroy(pipe);
      await stopListening();
    },
  };
}
