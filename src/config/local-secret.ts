import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCAL_SECRET_FILE = 'jwt-secret';

/**
 * For a single node on the embedded database with no JWT setting, a generated HS256 secret kept in
 * the data directory (mode 0600) lets `npm start` work on a fresh machine; `npm run token` reads the
 * same file. With DATABASE_URL (several nodes) the secret must come from the environment, so that
 * every node accepts the same tokens: nothing is generated and the config check reports it.
 * Returns the environment to load the config from, and the file when it was used.
 */
export function withLocalSecret(env: NodeJS.ProcessEnv, cwd: string): { env: NodeJS.ProcessEnv; file: string | null } {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  if (set('JWT_SECRET') || set('JWT_PUBLIC_KEY') || set('DATABASE_URL')) return { env, file: null };
  const dataDir = resolve(cwd, set('CRONWARDEN_DATA_DIR') ? env.CRONWARDEN_DATA_DIR! : './data');
  const file = join(dataDir, LOCAL_SECRET_FILE);
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    secret = randomBytes(32).toString('base64url');
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  }
  return { env: { ...env, JWT_SECRET: secret }, file };
}
