import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findChromium, INSTALL_HINT, launchChromium } from '../support/chromium.js';

/**
 * Where the real-browser tests find Chromium, and that a machine without it fails them with what
 * to install (never a skip). Fake executables in a temp dir stand in for the browser here; the
 * real one is launched by test/e2e/real-browser.e2e.test.ts.
 */

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'find-chromium-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function executable(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

describe('findChromium', () => {
  it('takes CHROMIUM_PATH when it names an executable file', () => {
    const given = executable(path.join(dir, 'my-chromium'));
    executable(path.join(dir, 'bin', 'chromium'));
    expect(findChromium({ CHROMIUM_PATH: given, PATH: path.join(dir, 'bin') })).toBe(given);
  });

  it('refuses a CHROMIUM_PATH that is missing, a directory or not executable, naming it and what to install', () => {
    const plain = path.join(dir, 'not-executable');
    writeFileSync(plain, '');
    for (const given of [path.join(dir, 'missing'), dir, plain]) {
      expect(() => findChromium({ CHROMIUM_PATH: given, PATH: '' })).toThrow(`CHROMIUM_PATH=${given} is not an executable file; ${INSTALL_HINT}`);
    }
  });

  it('else searches PATH in order, chromium before chromium-browser in each directory', () => {
    const first = path.join(dir, 'a');
    const second = path.join(dir, 'b');
    const browser = executable(path.join(first, 'chromium-browser'));
    executable(path.join(second, 'chromium'));
    expect(findChromium({ PATH: [path.join(dir, 'empty'), first, second].join(path.delimiter) })).toBe(browser);
    const plain = executable(path.join(first, 'chromium'));
    expect(findChromium({ PATH: [first, second].join(path.delimiter) })).toBe(plain);
  });

  it('fails with the install hint when neither is on PATH', () => {
    expect(() => findChromium({ PATH: dir })).toThrow('no chromium or chromium-browser on PATH: install chromium (Debian: apt-get install -y chromium)');
    expect(() => findChromium({})).toThrow(INSTALL_HINT);
  });

  it('launching without a browser rejects with the install hint (the e2e suite then fails, it does not skip)', async () => {
    await expect(launchChromium({ PATH: dir })).rejects.toThrow(INSTALL_HINT);
  });
});
