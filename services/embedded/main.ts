import { createLogger } from '../../infra/log/logger.js';
import { loadEmbeddedConfig } from './config.js';
import { startEmbeddedServer } from './embedded-server.js';

let config;
try {
  config = loadEmbeddedConfig(process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
const logger = createLogger({ level: config.logLevel });
const server = await startEmbeddedServer(config, logger);

if (server.demo) {
  // Printed for the person at the terminal, not logged: it names no secret of the server.
  process.stdout.write(
    [
      '',
      `IdP ready at ${config.issuer} (discovery: ${config.issuer}/.well-known/openid-configuration)`,
      `Try a login: open this URL and sign in as "${server.demo.username}" (password: IDP_DEMO_PASSWORD, default "demo"):`,
      `  ${server.demo.authorizeUrl}`,
      `The demo client's PKCE code_verifier for that URL: ${server.demo.codeVerifier}`,
      '',
    ].join('\n') + '\n',
  );
}

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  try {
    await server.close();
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
