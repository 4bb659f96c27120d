import { z } from 'zod';
import { RequestContext } from '../events/metadata.js';
import { OAuthErrorBody } from '../oauth-error.js';
import type { ServiceName } from '../events/metadata.js';

/**
 * Who may send a message on the bus: a service, or the administrator's identity (the `idp`
 * command line). The bus permissions of every identity are derived from these lists
 * (infra/bus/permissions.ts), so a call a contract does not allow is refused by the NATS server.
 */
export type Caller = ServiceName | 'admin';

/**
 * One request/reply message on the bus: its subject (`idp.<service>.<verb_noun>`, served by the
 * service's queue group), the request schema and the schema of the reply's value. Replies travel
 * as `{ ok: true, value }` or `{ ok: false, error: OAuthErrorBody }`.
 */
export interface MessageContract<S extends string, Req extends z.ZodType, Res extends z.ZodType> {
  subject: S;
  queue: string;
  /** The identities allowed to send it; no other may publish on the subject. */
  callers: readonly Caller[];
  request: Req;
  reply: Res;
}

export function message<const S extends string, Req extends z.ZodRawShape, Res extends z.ZodType>(
  subject: S,
  request: Req,
  reply: Res,
  access: { callers: readonly Caller[] },
): MessageContract<S, z.ZodObject<Req & { ctx: typeof RequestContext }>, Res> {
  const queue = subject.split('.')[1] ?? subject;
  return { subject, queue, callers: access.callers, request: z.object({ ...request, ctx: RequestContext }), reply };
}

export type RequestOf<M> = M extends MessageContract<string, infer Req, z.ZodType> ? z.input<Req> : never;
export type ReplyOf<M> = M extends MessageContract<string, z.ZodType, infer Res> ? z.infer<Res> : never;

export function replySchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: OAuthErrorBody }),
  ]);
}

export type Reply<T> = { ok: true; value: T } | { ok: false; error: OAuthErrorBody };
