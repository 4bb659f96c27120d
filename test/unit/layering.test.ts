import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The layering rules of .dependency-cruiser.cjs (STYLE.md), checked on the TypeScript sources
 * with dependency-cruiser itself, plus what an import rule cannot see: a domain reading the
 * clock or randomness through a global. `npm test` runs from the repository root.
 */
const ROOT = process.cwd();
const CLI = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function cruise(cwd: string, config: string): Violation[] {
  let output: string;
  try {
    output = execFileSync(process.execPath, [CLI, 'contracts', 'infra', 'services', '--config', config, '--output-type', 'json'], {
      cwd,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    // Exits non-zero when it finds violations; the JSON report is on stdout all the same.
    output = String((error as { stdout?: unknown }).stdout ?? '');
    if (!output.startsWith('{')) throw error;
  }
  return (JSON.parse(output) as { summary: { violations: Violation[] } }).summary.violations;
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourcesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('layering (STYLE.md)', () => {
  it('holds in this code base: pure domains, services sharing only contracts/, infra/ free of services/', () => {
    const violations = cruise(ROOT, '.dependency-cruiser.cjs');
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  it('is enforced: each rule catches a file that breaks it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'layering-'));
    try {
      const files: Record<string, string> = {
        'infra/store.ts': `export const store = 1;\n`,
        'contracts/shape.ts': `import { store } from '../infra/store';\nexport const shape = store;\n`,
        'services/authn/app/login.ts': `export const login = 1;\n`,
        'services/authn/domain/user.ts':
          `import { randomUUID } from 'node:crypto';\nimport { store } from '../../../infra/store';\nexport const user = [randomUUID, store];\n`,
        'services/gateway/app/flow.ts': `import { login } from '../../authn/app/login';\nexport const flow = login;\n`,
        'infra/uses-service.ts': `import { login } from '../services/authn/app/login';\nexport const x = login;\n`,
      };
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }));
      const found = cruise(dir, '.dependency-cruiser.cjs').map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
      expect(found.sort()).toEqual(
        [
          'contracts-stand-alone: contracts/shape.ts -> infra/store.ts',
          'domain-is-pure: services/authn/domain/user.ts -> infra/store.ts',
          'domain-is-pure: services/authn/domain/user.ts -> crypto',
          'infra-never-imports-services: infra/uses-service.ts -> services/authn/app/login.ts',
          'services-share-contracts-not-internals: services/gateway/app/flow.ts -> services/authn/app/login.ts',
        ].sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('keeps the clock and randomness out of every domain (they come in the command)', () => {
    const forbidden = /\bDate\.now\s*\(|new Date\s*\(\s*\)|\bMath\.random\s*\(|\bperformance\.now\s*\(|\bcrypto\.|\bprocess\./;
    const offenders = sourcesUnder(join(ROOT, 'services'))
      .filter((path) => /\/domain\//.test(path))
      .flatMap((path) =>
        readFileSync(path, 'utf8')
          .split('\n')
          .map((line, i) => ({ line: line.replace(/\/\/.*$/, ''), at: `${path.slice(ROOT.length + 1)}:${i + 1}` }))
          .filter(({ line }) => forbidden.test(line))
          .map(({ at, line }) => `${at}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });
});
