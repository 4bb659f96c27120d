import type { Server } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { decodeFormUrlencoded, decodeUtf8Body } from '../app/form-urlencoded.js';

/**
 * The gateway's two body parsers, in place of the framework's lenient ones (which read bytes
 * that are not UTF-8 as U+FFFD and keep a broken `%ZZ` as it is): forms and JSON must be
 * well-formed UTF-8, forms well percent-encoded; anything else is `invalid_request` before a
 * controller runs. JSON keeps the framework's parser (prototype poisoning refused).
 */
export function useStrictBodyParsers(app: NestFastifyApplication, bodyLimit: number): void {
  const json = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit }, (_request, body, done) => {
    let form: Record<string, string | string[]>;
    try {
      form = decodeFormUrlencoded(body);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    done(null, form);
  });
  app.useBodyParser<Server>('application/json', { bodyLimit }, (request, body, done) => {
    let text: string;
    try {
      text = decodeUtf8Body(body);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    json(request, text, done);
  });
}
