import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createTestStore, startTestDaemon, TEST_JWT_SECRET, type TestDaemon, type TestStore } from '../support/daemon.js';

/** The `sh` blocks of a markdown file, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
}

describe('docs/api.md', () => {
  let store: TestStore;
  let daemon: TestDaemon;

  beforeAll(async () => {
    store = await createTestStore('pglite');
    // The shipped config, as `npm start` runs it.
    daemon = await startTestDaemon(store, await readFile('config/cronwarden.yaml', 'utf8'));
  });
  afterAll(async () => {
    await daemon?.close();
    await store?.dispose();
  });

  it('has curl examples that work as written, run in order against a real daemon', async () => {
    const blocks = shellBlocks(await readFile('docs/api.md', 'utf8'));
    expect(blocks.length).toBeGreaterThan(10);
    // Only the port differs from a daemon started with `npm start`.
    const script = blocks.map((block, index) => `echo "--- block ${index + 1}" >&2\n${block}`).join('\n')
      .replaceAll('http://127.0.0.1:8000', daemon.url);
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', JWT_SECRET: TEST_JWT_SECRET },
        timeout: 60_000,
      }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
      child.stdin?.end();
    });
    if (result.code !== 0) throw new Error(`the examples failed (exit ${result.code}):\n${result.stderr.slice(-3_000)}`);
    expect(result.stdout).toContain('event: end');
    expect(result.stdout).toMatch(/"status":"succeeded"/);
  });
});
