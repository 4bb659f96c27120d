import { z } from 'zod';
import { eventSchema } from './define.js';

export const ConsentGrantedV1 = eventSchema(
  'consent.granted',
  1,
  z.object({ sub: z.string(), clientId: z.string(), scopes: z.array(z.string()).min(1) }),
);

export const ConsentEvent = z.discriminatedUnion('type', [ConsentGrantedV1]);
export type ConsentEvent = z.infer<typeof ConsentEvent>;
