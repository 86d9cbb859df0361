import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvFile, readRepoFile, ROOT } from './deploy-files.js';

const INSTALLER = join(ROOT, 'systemd/install.sh');

/** Runs the installer staged under `destdir` (no user, no systemctl, no build); returns its output. */
function install(destdir: string): string {
  const result = spawnSync('bash', [INSTALLER, '--no-build'], { env: { ...process.env, DESTDIR: destdir }, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`install.sh exited ${result.status}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

describe('systemd/install.sh', () => {
  let destdir: string;
  beforeEach(() => (destdir = mkdtempSync(join(tmpdir(), 'cronwarden-install-'))));
  afterEach(() => rmSync(destdir, { recursive: true, force: true }));

  test('is valid bash', () => {
    const result = spawnSync('bash', ['-n', INSTALLER], { encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  test('lays out the code, the unit, the config and an env file with a generated secret only root can read', () => {
    install(destdir);
    expect(existsSync(join(destdir, 'opt/cronwarden/package.json'))).toBe(true);
    expect(existsSync(join(destdir, 'opt/cronwarden/node_modules'))).toBe(false);
    expect(readFileSync(join(destdir, 'etc/systemd/system/cronwarden.service'), 'utf8')).toBe(readRepoFile('systemd/cronwarden.service'));
    expect(readFileSync(join(destdir, 'etc/cronwarden/cronwarden.yaml'), 'utf8')).toBe(readRepoFile('config/cronwarden.yaml'));
    expect(statSync(join(destdir, 'var/lib/cronwarden')).isDirectory()).toBe(true);
    const envFile = join(destdir, 'etc/cronwarden/cronwarden.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(parseEnvFile(readFileSync(envFile, 'utf8')).set.get('JWT_SECRET')).toMatch(/^[0-9a-f]{64}$/);
  });

  test('run again, it replaces the code but keeps the secret, the edited config and the previous version', () => {
    install(destdir);
    const envFile = join(destdir, 'etc/cronwarden/cronwarden.env');
    const secret = parseEnvFile(readFileSync(envFile, 'utf8')).set.get('JWT_SECRET');
    const config = join(destdir, 'etc/cronwarden/cronwarden.yaml');
    writeFileSync(config, '# edited by the operator\n');
    writeFileSync(join(destdir, 'opt/cronwarden/stale-file'), 'from the old version');

    const output = install(destdir);

    expect(output).toContain('keeping /etc/cronwarden/cronwarden.env');
    expect(parseEnvFile(readFileSync(envFile, 'utf8')).set.get('JWT_SECRET')).toBe(secret);
    expect(readFileSync(config, 'utf8')).toBe('# edited by the operator\n');
    expect(existsSync(join(destdir, 'opt/cronwarden/stale-file'))).toBe(false);
    expect(existsSync(join(destdir, 'opt/cronwarden.old/stale-file'))).toBe(true);
    expect(existsSync(join(destdir, 'opt/cronwarden.new'))).toBe(false);
  });

  test('refuses an unknown option', () => {
    const result = spawnSync('bash', [INSTALLER, '--frobnicate'], { env: { ...process.env, DESTDIR: destdir }, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unknown option --frobnicate');
  });
});
