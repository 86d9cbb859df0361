import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { FIXTURES } from '../support/daemon.js';
import { createPgliteDataDir, createTestDatabase, testDatabaseKinds, type TestDatabaseKind } from '../support/databases.js';
import { cli, requireBuiltCli } from './cli-process.js';

const SECRET = 'a-secret-for-the-cli-tests-that-is-long-enough';

/** A port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };
  await new Promise((closed) => server.close(closed));
  return port;
}

describe('the cronwarden command line on its own', () => {
  let dir: string;

  beforeAll(async () => {
    requireBuiltCli();
    dir = await mkdtemp(join(tmpdir(), 'cw-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('checks a good config file and summarises it', async () => {
    const file = join(dir, 'good.yaml');
    await writeFile(file, `pipelines:\n  ok: { command: ["${FIXTURES}/exit-0.sh"] }\njobs:\n  nightly: { pipeline: ok, cron: "0 3 * * *", timezone: Europe/Berlin }\n`);
    const result = await cli(['config', 'check', file], { JWT_SECRET: SECRET, CRONWARDEN_DATA_DIR: join(dir, 'data') });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(new RegExp(`^ok: ${file}$`, 'm'));
    expect(result.stdout).toMatch(/^ {4}nightly: ok, cron "0 3 \* \* \*" Europe\/Berlin$/m);
    expect(result.stdout).toMatch(/^ {2}auth: +HS256 with JWT_SECRET$/m);
  });

  it('lists every problem of a bad config file and exits 78', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'pipelines:\n  ok: { command: [] }\njobs:\n  nightly: { pipeline: missing, every: 5 }\n  Bad: { pipeline: ok, cron: "99 * * * *" }\n');
    const result = await cli(['config', 'check', file], { JWT_SECRET: 'short' });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^cronwarden: invalid configuration \(\d+ problems\):$/);
    for (const path of ['pipelines.ok.command', 'jobs.nightly.pipeline', 'jobs.nightly.every', 'jobs.Bad', 'jobs.Bad.cron', 'env.JWT_SECRET']) {
      expect(lines.filter((line) => line.startsWith(`${file}: ${path}: `))).toHaveLength(1);
    }
  });

  it('checks the file named by CRONWARDEN_CONFIG, relative to the working directory, and says when it is missing', async () => {
    const result = await cli(['config', 'check'], { CRONWARDEN_CONFIG: 'nowhere.yaml', JWT_SECRET: SECRET }, { cwd: dir });
    expect(result).toEqual({ code: 78, stdout: '', stderr: `cronwarden: invalid configuration (1 problem):\n${join(dir, 'nowhere.yaml')}: config file not found (CRONWARDEN_CONFIG names another one)\n` });
  });

  it('serve stops at start with exit 78 on a bad config, as the daemon does', async () => {
    const result = await cli(['serve', '--config', 'nowhere.yaml'], { JWT_SECRET: SECRET }, { cwd: dir });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`${join(dir, 'nowhere.yaml')}: config file not found`);
  });

  it('mints a token that verifies with the secret and carries sub, roles and lifetime', async () => {
    const result = await cli(['token', '--sub', 'deployer', '--roles', 'user,admin', '--ttl', '90s'], { JWT_SECRET: SECRET, JWT_ISSUER: 'ops' });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const claims = jwt.verify(result.stdout.trim(), SECRET, { algorithms: ['HS256'], issuer: 'ops' }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'deployer', roles: ['user', 'admin'], iss: 'ops' });
    expect(claims.exp! - claims.iat!).toBe(90);
  });

  it('refuses to mint a token without a secret (exit 78) or with a bad lifetime (exit 1)', async () => {
    expect(await cli(['token'], { CRONWARDEN_DATA_DIR: join(dir, 'empty') })).toEqual({
      code: 78, stdout: '', stderr: 'cronwarden: JWT_SECRET is not set: export the secret the daemon uses\n',
    });
    const badTtl = await cli(['token', '--ttl', 'soon'], { JWT_SECRET: SECRET });
    expect(badTtl.code).toBe(1);
    expect(badTtl.stderr).toMatch(/^cronwarden: .*\(--ttl soon\)\n$/);
  });

  it('says on one line that the daemon cannot be reached, and exits 3', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await cli(['jobs', 'list'], { CRONWARDEN_URL: url, CRONWARDEN_TOKEN: 'x' });
    expect(result).toEqual({ code: 3, stdout: '', stderr: `cronwarden: cannot reach the daemon at ${url}: connect ECONNREFUSED ${url.slice(7)}\n` });
  });

  it('exits 1 with usage help for an unknown command or a missing argument', async () => {
    expect(await cli(['jobs', 'lst'])).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining("unknown command 'lst'") });
    expect(await cli(['runs', 'logs'])).toMatchObject({ code: 1, stderr: expect.stringContaining("missing required argument 'id'") });
    expect(await cli(['jobs', 'trigger', 'x', '--params', '[1]'])).toMatchObject({ code: 1, stderr: `cronwarden: --params must be a JSON object such as '{"day":"monday"}'\n` });
  });
});

describe.each(testDatabaseKinds())('cronwarden migrate on %s', (kind: TestDatabaseKind) => {
  let env: Record<string, string>;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    if (kind === 'postgres') {
      const db = await createTestDatabase('postgres');
      env = { DATABASE_URL: db.url! };
      dispose = () => db.drop();
    } else {
      const dataDir = await createPgliteDataDir();
      env = { CRONWARDEN_DATA_DIR: dataDir };
      dispose = () => rm(dataDir, { recursive: true, force: true });
    }
  });
  afterAll(() => dispose?.());

  it('applies the migrations to an empty database, then finds nothing to do', async () => {
    const first = await cli(['migrate'], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/^applied \d+ migrations to the .*: InitialSchema1764000000000, /);
    const second = await cli(['migrate'], env);
    expect(second).toMatchObject({ code: 0, stdout: expect.stringMatching(/ is up to date \(\d+ migrations applied earlier\)\n$/) });
  });
});
