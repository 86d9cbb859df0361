import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CONFIG_EXIT_CODE } from '../../src/config/config.loader.js';
import { parseDuration } from '../../src/config/durations.js';
import { environmentVariablesRead, npmStartWords, parseEnvFile, parseUnit, readRepoFile, ROOT, shippedConfig, shutdownBudgetMs } from './deploy-files.js';

const unit = parseUnit(readRepoFile('systemd/cronwarden.service'));
const service = unit.get('Service')!;
const envTemplate = parseEnvFile(readRepoFile('systemd/cronwarden.env.example'));
const one = (key: string) => {
  const values = service.get(key) ?? [];
  expect({ key, count: values.length }).toEqual({ key, count: 1 });
  return values[0];
};

function findSystemdAnalyze(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

describe('systemd/cronwarden.service', () => {
  test('systemd-analyze verify accepts it without a single warning', () => {
    const analyzer = findSystemdAnalyze();
    if (!analyzer) {
      // CI must check the unit: .ci/run installs systemd (Debian: apt-get install -y systemd).
      if (process.env.CI === 'true') throw new Error('systemd-analyze is missing on CI; install it: apt-get install -y --no-install-recommends systemd');
      console.warn('systemd-analyze is not installed: the unit was not verified (CI verifies it)');
      return;
    }
    const result = spawnSync(analyzer, ['verify', join(ROOT, 'systemd/cronwarden.service')], { encoding: 'utf8', timeout: 30_000 });
    // verify exits 0 on unknown keys and bad values (it ignores them), so its output must be empty too.
    expect({ status: result.status, output: `${result.stdout}${result.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });

  test('a bad configuration (exit 78) is not restarted, any other failure is', () => {
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartPreventExitStatus').split(/\s+/)).toContain(String(CONFIG_EXIT_CODE));
  });

  test('stopping gives the runs their shutdown grace and kill grace before systemd kills anything', () => {
    expect(one('KillMode')).toBe('mixed');
    expect(one('KillSignal')).toBe('SIGTERM');
    const budget = shutdownBudgetMs(shippedConfig());
    expect(parseDuration(one('TimeoutStopSec'))).toBeGreaterThanOrEqual(budget + 5_000);
  });

  test('it runs the built entry point that npm start runs, as a dedicated user, with the env file', () => {
    const [node, ...args] = npmStartWords();
    const entry = args.pop()!;
    expect(one('ExecStart')).toBe(['/usr/bin/env', node, ...args, `${one('WorkingDirectory')}/${entry}`].join(' '));
    expect(one('User')).toBe('cronwarden');
    expect(one('EnvironmentFile')).toBe('/etc/cronwarden/cronwarden.env');
    expect(one('Type')).toBe('simple');
  });

  test('the file system is read-only except the data directory the env template sets', () => {
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('RestrictAddressFamilies').split(/\s+/).sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    const dataDir = envTemplate.set.get('CRONWARDEN_DATA_DIR');
    expect(dataDir).toBe('/var/lib/cronwarden');
    expect(one('ReadWritePaths').split(/\s+/)).toContain(dataDir);
  });

  test('it never sets hardening that breaks Node or hides devices from pipelines', () => {
    // MemoryDenyWriteExecute breaks the JIT and WebAssembly; PrivateDevices hides GPUs from video pipelines.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    expect(service.has('PrivateDevices')).toBe(false);
  });
});

describe('systemd/cronwarden.env.example', () => {
  test('it documents every environment variable the daemon reads, and no other', () => {
    expect([...envTemplate.documented].sort()).toEqual(environmentVariablesRead());
  });

  test('it names the config file outside the code directory, so upgrades keep it', () => {
    expect(envTemplate.set.get('CRONWARDEN_CONFIG')).toBe('/etc/cronwarden/cronwarden.yaml');
    // install.sh fills in the generated secret on this exact line.
    expect(envTemplate.set.get('JWT_SECRET')).toBe('');
  });
});
