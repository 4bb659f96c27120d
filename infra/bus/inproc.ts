import {
  type Bus,
  type BusRequestOptions,
  BusNoResponderError,
  BusRemoteError,
  BusTimeoutError,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './port.js';

/** JSON text, or undefined for a value JSON cannot express (such as `undefined` itself). */
type Wire = string | undefined;

const encode = (value: unknown): Wire => JSON.stringify(value);
const decode = (wire: Wire): unknown => (wire === undefined ? undefined : JSON.parse(wire));

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(encode(error) ?? error);
}

/** One registration (a handler or a subscriber) of one connection. */
export interface Registration {
  handler: (payload: unknown) => unknown;
  /** False once unsubscribed: a message already on its way is then dropped, as NATS does. */
  active: boolean;
  /** Whether the owning connection is still open (a closed one cannot send replies). */
  connected: () => boolean;
}

interface QueueGroup {
  members: Registration[];
  next: number;
}

function removeFrom<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}

/** The shared "server": what a NATS server is to its connections, in memory. */
export class InProcessBroker {
  private readonly groups = new Map<string, Map<string, QueueGroup>>();
  private readonly subscribers = new Map<string, Registration[]>();

  /** Adds a queue-group member for `subject`; returns its removal. */
  join(subject: string, queue: string, member: Registration): () => void {
    const bySubject = this.groups.get(subject) ?? new Map<string, QueueGroup>();
    this.groups.set(subject, bySubject);
    const group = bySubject.get(queue) ?? { members: [], next: 0 };
    bySubject.set(queue, group);
    group.members.push(member);
    return () => {
      member.active = false;
      removeFrom(group.members, member);
      if (group.members.length === 0 && bySubject.get(queue) === group) bySubject.delete(queue);
      if (bySubject.size === 0 && this.groups.get(subject) === bySubject) this.groups.delete(subject);
    };
  }

  /** One member of every queue group serving `subject`, round robin within each group. */
  pickResponders(subject: string): Registration[] {
    const picked: Registration[] = [];
    for (const group of this.groups.get(subject)?.values() ?? []) {
      const member = group.members[group.next % group.members.length];
      group.next = (group.next + 1) % group.members.length;
      if (member) picked.push(member);
    }
    return picked;
  }

  /** Adds a plain subscriber for `subject`; returns its removal. */
  subscribe(subject: string, subscriber: Registration): () => void {
    const list = this.subscribers.get(subject) ?? [];
    this.subscribers.set(subject, list);
    list.push(subscriber);
    return () => {
      subscriber.active = false;
      removeFrom(list, subscriber);
      if (list.length === 0 && this.subscribers.get(subject) === list) this.subscribers.delete(subject);
    };
  }

  subscribersOf(subject: string): Registration[] {
    return [...(this.subscribers.get(subject) ?? [])];
  }
}

/** A connection to an InProcessBroker; one per simulated process. */
export class InProcessBus implements Bus {
  private closed = false;
  private readonly removals = new Set<() => void>();
  /** Rejects each request still waiting for a reply. */
  private readonly pending = new Set<(error: Error) => void>();

  constructor(private readonly broker: InProcessBroker) {}

  request<TReply = unknown>(subject: string, payload: unknown, options: BusRequestOptions = {}): Promise<TReply> {
    return new Promise<TReply>((resolve, reject) => {
      this.assertOpen();
      const wire = encode(payload);
      const responders = this.broker.pickResponders(subject);
      if (responders.length === 0) throw new BusNoResponderError(subject);

      const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      let settled = false;
      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(fail);
        finish();
      };
      const fail = (error: Error): void => settle(() => reject(error));
      const timer = setTimeout(() => fail(new BusTimeoutError(subject, timeoutMs)), timeoutMs);
      this.pending.add(fail);

      // Every queue group gets a copy; like a NATS requester, the first reply wins.
      for (const responder of responders) {
        deliver(responder, wire, (reply) => settle(() => resolve(decode(reply) as TReply)), (error) =>
          fail(new BusRemoteError(subject, messageOf(error))),
        );
      }
    });
  }

  async publish(subject: string, payload: unknown): Promise<void> {
    this.assertOpen();
    const wire = encode(payload);
    for (const subscriber of this.broker.subscribersOf(subject)) {
      // At most once and fire-and-forget: a subscriber's failure has nobody to go to.
      deliver(subscriber, wire, () => {}, () => {});
    }
  }

  handle(subject: string, queue: string, handler: (payload: unknown) => Promise<unknown> | unknown): () => void {
    return this.register(this.broker.join.bind(this.broker, subject, queue), handler);
  }

  subscribe(subject: string, handler: (payload: unknown) => Promise<void> | void): () => void {
    return this.register(this.broker.subscribe.bind(this.broker, subject), handler);
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('bus connection closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const remove of [...this.removals]) remove();
    this.removals.clear();
    for (const fail of [...this.pending]) fail(new Error('bus connection closed'));
  }

  private register(add: (registration: Registration) => () => void, handler: (payload: unknown) => unknown): () => void {
    this.assertOpen();
    const remove = add({ handler, active: true, connected: () => !this.closed });
    this.removals.add(remove);
    return () => {
      remove();
      this.removals.delete(remove);
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('bus connection closed');
  }
}

/**
 * Runs a registration's handler on a later macrotask (never inside the sender's call stack)
 * with its own copy of the payload, and sends back its JSON reply or its failure.
 */
function deliver(
  to: Registration,
  wire: Wire,
  onReply: (reply: Wire) => void,
  onError: (error: unknown) => void,
): void {
  setImmediate(async () => {
    if (!to.active) return;
    let reply: Wire;
    try {
      reply = encode(await to.handler(decode(wire)));
    } catch (error) {
      if (to.connected()) onError(error);
      return;
    }
    if (to.connected()) onReply(reply);
  });
}
