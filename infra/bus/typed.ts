import type { z } from 'zod';
import type { MessageContract, Reply } from '../../contracts/messages/define.js';
import { replySchema } from '../../contracts/messages/define.js';
import { OAuthError } from '../../contracts/oauth-error.js';
import { findIllFormedText } from '../../contracts/well-formed-text.js';
import { DependencyUnavailableError } from '../dependency-unavailable.js';
import { busDuration, busHandled } from '../metrics/metrics.js';
import { BusNoResponderError, BusRemoteError, BusTimeoutError, type Bus } from './port.js';

/** Built once per contract: constructing a zod schema per call costs more than parsing with it. */
const replySchemas = new WeakMap<object, z.ZodType>();
function replySchemaOf(contract: MessageContract<string, z.ZodType, z.ZodType>): z.ZodType {
  let schema = replySchemas.get(contract);
  if (!schema) {
    schema = replySchema(contract.reply);
    replySchemas.set(contract, schema);
  }
  return schema;
}

/**
 * Sends one contract message and returns its reply's value, or throws the OAuthError the
 * service answered with. A service that is down or silent becomes `temporarily_unavailable`.
 */
export async function call<Req extends z.ZodType, Res extends z.ZodType>(
  bus: Bus,
  contract: MessageContract<string, Req, Res>,
  request: z.input<Req>,
  options: { timeoutMs?: number } = {},
): Promise<z.infer<Res>> {
  let raw: unknown;
  try {
    raw = await bus.request(contract.subject, request, options);
  } catch (error) {
    // A handler's own failure is a bug (serve() never throws); anything else the bus raises
    // (timeout, no responder, connection lost while reconnecting) means a dependency is down.
    if (error instanceof BusRemoteError) throw error;
    throw new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable', {
      detail: error instanceof BusTimeoutError || error instanceof BusNoResponderError ? error.message : String(error),
      mayRedirect: false,
    });
  }
  const reply = replySchemaOf(contract).parse(raw) as Reply<z.infer<Res>>;
  if (reply.ok) return reply.value;
  throw OAuthError.fromBody(reply.error);
}

/**
 * The receiving edge: parses the request with the contract's schema, runs the handler, and
 * wraps the outcome as a Reply. Bad input is `invalid_request`; a dependency that is down (the
 * log, the projections, the data keys) is `temporarily_unavailable`, the client may retry; an
 * unexpected failure is `server_error`. The cause of either goes to `onUnexpected` (the log),
 * never to the caller.
 */
export async function serve<Req extends z.ZodType, Res extends z.ZodType>(
  contract: MessageContract<string, Req, Res>,
  payload: unknown,
  handler: (request: z.infer<Req>) => Promise<z.input<Res>> | z.input<Res>,
  onUnexpected: (error: unknown, subject: string) => void,
): Promise<Reply<z.infer<Res>>> {
  const stopTimer = busDuration.startTimer({ subject: contract.subject });
  const reply = await serveParsed(contract, payload, handler, onUnexpected);
  stopTimer();
  busHandled.inc({ subject: contract.subject, outcome: reply.ok ? 'ok' : reply.error.code });
  return reply;
}

async function serveParsed<Req extends z.ZodType, Res extends z.ZodType>(
  contract: MessageContract<string, Req, Res>,
  payload: unknown,
  handler: (request: z.infer<Req>) => Promise<z.input<Res>> | z.input<Res>,
  onUnexpected: (error: unknown, subject: string) => void,
): Promise<Reply<z.infer<Res>>> {
  // Text the log could not hash is refused at the edge, like any malformed field.
  const illFormed = findIllFormedText(payload);
  if (illFormed !== undefined) {
    return {
      ok: false,
      error: new OAuthError('invalid_request', 'the request contains text that is not well-formed Unicode', {
        detail: `${contract.subject}: ${illFormed}`,
      }).toBody(),
    };
  }
  const parsed = contract.request.safeParse(payload);
  if (!parsed.success) {
    return {
      ok: false,
      error: new OAuthError('invalid_request', 'malformed request', {
        detail: `${contract.subject}: ${parsed.error.message}`,
      }).toBody(),
    };
  }
  try {
    const value = await handler(parsed.data);
    return { ok: true, value: contract.reply.parse(value) };
  } catch (error) {
    if (error instanceof OAuthError) return { ok: false, error: error.toBody() };
    onUnexpected(error, contract.subject);
    if (error instanceof DependencyUnavailableError) {
      return { ok: false, error: new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable', { mayRedirect: false }).toBody() };
    }
    return { ok: false, error: new OAuthError('server_error', 'internal error', { mayRedirect: true }).toBody() };
  }
}
