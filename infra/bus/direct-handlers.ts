import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants.js';
import { PATTERN_HANDLER_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants.js';

/** A message controller's method, called with the payload alone. */
export type DirectHandler = (payload: unknown) => unknown;

/** Nest's RpcParamtype.PAYLOAD and its PatternHandler.MESSAGE (`@Payload()`, `@MessagePattern`). */
const PAYLOAD_PARAM = 3;
const MESSAGE_HANDLER = 1;
const ENHANCERS = [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA, EXCEPTION_FILTERS_METADATA];

/**
 * The embedded mode's way past Nest's RPC pipeline (issue 12). A request served through Nest
 * runs its context creator, its parameter factories and an RxJS round for each message; the
 * services' message controllers use none of what that pipeline offers (no guard, interceptor,
 * pipe or filter; the payload is the one parameter: `serve()` parses it against its contract).
 * So where a controller is exactly that, its methods can be called with the payload directly,
 * with the same outcome. This reads the `@MessagePattern` methods of a controller instance and
 * refuses a controller that uses more than the payload, so that a guard added later can never
 * be skipped silently.
 */
export function directHandlersOf(controller: object): Map<string, DirectHandler> {
  const type = controller.constructor;
  const prototype = Object.getPrototypeOf(controller) as Record<string, unknown>;
  const refuse = (what: string) => {
    throw new Error(`${type.name} cannot be served directly: ${what}`);
  };
  for (const key of ENHANCERS) if (Reflect.getMetadata(key, type) !== undefined) refuse(`the class has ${key}`);

  const handlers = new Map<string, DirectHandler>();
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const method = name === 'constructor' ? undefined : Object.getOwnPropertyDescriptor(prototype, name)?.value;
    if (typeof method !== 'function') continue;
    const patterns = Reflect.getMetadata(PATTERN_METADATA, method) as unknown[] | undefined;
    if (patterns === undefined) continue;
    if (Reflect.getMetadata(PATTERN_HANDLER_METADATA, method) !== MESSAGE_HANDLER) refuse(`${name} is not a @MessagePattern`);
    for (const key of ENHANCERS) if (Reflect.getMetadata(key, method) !== undefined) refuse(`${name} has ${key}`);
    const params = Object.values((Reflect.getMetadata(ROUTE_ARGS_METADATA, type, name) ?? {}) as Record<string, { index: number; data?: unknown; pipes?: unknown[] }>);
    const onlyPayload =
      params.length === 1 &&
      params[0]!.index === 0 &&
      Object.keys(Reflect.getMetadata(ROUTE_ARGS_METADATA, type, name) as object)[0]!.startsWith(`${PAYLOAD_PARAM}:`) &&
      params[0]!.data === undefined &&
      (params[0]!.pipes ?? []).length === 0;
    if (!onlyPayload) refuse(`${name} takes more than a bare @Payload()`);
    const bound = (method as (payload: unknown) => unknown).bind(controller);
    for (const pattern of patterns) {
      if (typeof pattern !== 'string') refuse(`${name} has a pattern that is not a subject`);
      if (handlers.has(pattern as string)) refuse(`two methods serve ${String(pattern)}`);
      handlers.set(pattern as string, bound);
    }
  }
  if (handlers.size === 0) refuse('it has no @MessagePattern method');
  return handlers;
}
