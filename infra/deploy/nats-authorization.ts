/**
 * The `authorization` block of nats-server for a deployment whose keys live outside the file:
 * one user per NATS identity with the permissions derived from contracts/ (infra/bus/permissions.ts),
 * each known by a variable `$IDP_NKEY_<IDENTITY>` that nats-server resolves from its environment.
 * The same text sits in infra/k8s/nats.yaml (ConfigMap nats-config, auth.conf) and in
 * infra/nats/auth.conf (docker-compose.yml); test/deploy checks both equal what this derives, so
 * the deployment files cannot drift from the contracts. The public keys come from the generated
 * configuration (`npm run deploy:emit`); a missing or placeholder key stops nats-server at start.
 */
import { NATS_IDENTITIES, natsPermissions, natsServerPermissions, type NatsIdentity } from '../bus/permissions.js';

/** The environment variable that holds an identity's NKey public key for nats-server. */
export function nkeyVariable(identity: NatsIdentity): string {
  return `IDP_NKEY_${identity.toUpperCase().replace(/-/g, '_')}`;
}

const HEADER = [
  '# Generated from contracts/ by infra/deploy/nats-authorization.ts: do not edit by hand.',
  '# One NATS user per identity, known by its NKey public key (from the environment of',
  '# nats-server: IDP_NKEY_<IDENTITY>), with only the subjects it serves and calls.',
];

/** The text of auth.conf, to `include` from the nats-server configuration. */
export function natsAuthorizationConf(): string {
  const users = NATS_IDENTITIES.map((identity) => ({
    nkey: `$${nkeyVariable(identity)}`,
    permissions: natsServerPermissions(natsPermissions(identity)),
  }));
  // A variable reference is written bare: quoted, it would be the literal text.
  const body = JSON.stringify({ authorization: { users } }, null, 2).replace(/"nkey": "\$(IDP_NKEY_[A-Z_]+)"/g, '"nkey": $$$1');
  return `${[...HEADER, body].join('\n')}\n`;
}
