import { OAuthError } from '../../../contracts/oauth-error.js';

/**
 * The resource servers this issuer issues tokens for (RFC 8707): an operator's list, each an
 * absolute URI and optionally the client id the resource server introspects with. A `resource`
 * not on the list is `invalid_target` (§2): a client cannot mint tokens for an audience nobody
 * configured. With no list, no `resource` is accepted and tokens are for this issuer only.
 *
 * Configured as `IDP_RESOURCE_SERVERS="https://api.example/orders=orders-rs https://api.example/pay"`.
 */
export class ResourceServers {
  private readonly owners = new Map<string, string | undefined>();

  constructor(entries: ReadonlyArray<{ uri: string; clientId?: string | undefined }> = []) {
    for (const { uri, clientId } of entries) this.owners.set(uri, clientId);
  }

  /** Parses the configuration; a malformed entry throws (start-up refuses it). */
  static parse(value: string | undefined): ResourceServers {
    const entries = (value ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((entry) => {
        const eq = entry.lastIndexOf('=');
        const uri = eq > 0 ? entry.slice(0, eq) : entry;
        const clientId = eq > 0 ? entry.slice(eq + 1) : undefined;
        let url: URL;
        try {
          url = new URL(uri);
        } catch {
          throw new Error(`IDP_RESOURCE_SERVERS: ${uri} is not an absolute URI`);
        }
        if (url.hash !== '' || uri.includes('#')) throw new Error(`IDP_RESOURCE_SERVERS: ${uri} has a fragment`);
        if (clientId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(clientId)) throw new Error(`IDP_RESOURCE_SERVERS: bad client id for ${uri}`);
        return { uri, clientId };
      });
    return new ResourceServers(entries);
  }

  /** The requested resources, each a configured one, else `invalid_target`. */
  check(resources: readonly string[]): string[] {
    for (const resource of resources) {
      if (!this.owners.has(resource)) throw new OAuthError('invalid_target', 'the resource is not one this server issues tokens for');
    }
    return [...resources];
  }

  /** Whether `clientId` is the resource server of one of these audience values (introspection). */
  serves(clientId: string, audience: readonly string[]): boolean {
    return audience.some((uri) => this.owners.get(uri) === clientId);
  }
}
