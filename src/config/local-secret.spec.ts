import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLocalSecret } from './local-secret.js';

describe('withLocalSecret', () => {
  let cwd: string;
  beforeEach(() => (cwd = mkdtempSync(join(tmpdir(), 'cw-secret-'))));
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('generates a 0600 secret in the data directory once, and reuses it on the next start', () => {
    const first = withLocalSecret({}, cwd);
    expect(first.file).toBe(join(cwd, 'data', 'jwt-secret'));
    expect(first.env.JWT_SECRET!.length).toBeGreaterThanOrEqual(32);
    expect(statSync(first.file!).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.file!, 'utf8').trim()).toBe(first.env.JWT_SECRET);
    expect(withLocalSecret({}, cwd).env.JWT_SECRET).toBe(first.env.JWT_SECRET);
  });

  it('leaves the environment alone when a secret, a public key or DATABASE_URL is set', () => {
    for (const env of [{ JWT_SECRET: 's' }, { JWT_PUBLIC_KEY: 'k' }, { DATABASE_URL: 'postgres://x/y' }]) {
      expect(withLocalSecret(env, cwd)).toEqual({ env, file: null });
    }
  });
});
