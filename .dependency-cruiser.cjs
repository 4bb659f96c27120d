/**
 * The layering of this code base (STYLE.md, "How that looks here"), checked by `npm test`
 * (test/unit/layering.test.ts). A rule here is a promise the next engineer can rely on:
 * - a domain (services/<name>/domain/) is pure: no framework, no infra, no Node built-ins (the
 *   clock and randomness come in the command), only contracts/, zod and other domain code;
 * - services share contracts/ (and the shared kernel services/shared/), never each other's
 *   internals; only the embedded composition root wires all four together;
 * - infra/ (ports and adapters) never depends on services/.
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'A decider sees only its commands and events: no framework, infra, Node built-in (clock, random, I/O) or npm package but zod.',
      severity: 'error',
      from: { path: '^services/[^/]+/domain/' },
      to: {
        pathNot: ['^services/[^/]+/domain/', '^contracts/', 'node_modules/zod/'],
      },
    },
    {
      name: 'services-share-contracts-not-internals',
      comment: 'A service reaches another only over the bus, through contracts/; the shared kernel is services/shared/.',
      severity: 'error',
      from: { path: '^services/(authn|client-registry|token-issuer|gateway|shared)/' },
      to: { path: '^services/', pathNot: ['^services/$1/', '^services/shared/'] },
    },
    {
      name: 'infra-never-imports-services',
      comment: 'Ports and adapters know nothing of the services that use them.',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^services/' },
    },
    {
      name: 'contracts-stand-alone',
      comment: 'contracts/ is what every service shares: it depends on nothing of ours but itself.',
      severity: 'error',
      from: { path: '^contracts/' },
      to: { path: '^(services|infra|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
