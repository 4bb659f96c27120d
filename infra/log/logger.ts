import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names whose values are secrets. pino censors them wherever they appear at these paths,
 * as a second line of defence: code that logs is expected not to pass secrets at all.
 */
const SECRET_PATHS = [
  'password',
  'client_secret',
  'clientSecret',
  'code',
  'code_verifier',
  'codeVerifier',
  'access_token',
  'accessToken',
  'id_token',
  'idToken',
  'refresh_token',
  'refreshToken',
  'registrationAccessToken',
  'registration_access_token',
  'sessionToken',
  'token',
  'authorization',
  'cookie',
  '*.password',
  '*.client_secret',
  '*.clientSecret',
  '*.code',
  '*.code_verifier',
  '*.codeVerifier',
  '*.access_token',
  '*.accessToken',
  '*.id_token',
  '*.idToken',
  '*.refresh_token',
  '*.refreshToken',
  '*.registrationAccessToken',
  '*.registration_access_token',
  '*.sessionToken',
  '*.token',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

export function createLogger(options: { level?: string; name?: string } = {}, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      ...(options.name ? { name: options.name } : {}),
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
