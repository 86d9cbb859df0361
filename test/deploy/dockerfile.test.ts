import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../../src/config/durations.js';
import { dockerignorePatterns, dockerIgnores, parseDockerfile, readRepoFile, ROOT, shippedConfig, shutdownBudgetMs } from './deploy-files.js';

const instructions = parseDockerfile(readRepoFile('Dockerfile'));
const ignored = dockerignorePatterns(readRepoFile('.dockerignore'));
const stages = [...new Set(instructions.map((instruction) => instruction.stage))];
const finalStage = stages[stages.length - 1];
const inFinalStage = (keyword: string) => instructions.filter((instruction) => instruction.stage === finalStage && instruction.keyword === keyword);
const jsonArgs = (args: string) => JSON.parse(args) as string[];

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  stop_grace_period?: string;
}

describe('Dockerfile', () => {
  test('every file it copies from the build context exists and is not left out by .dockerignore', () => {
    const copies = instructions.filter((instruction) => instruction.keyword === 'COPY' && !instruction.args.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const sources = copy.args.split(' ').filter((word) => !word.startsWith('--')).slice(0, -1);
      for (const source of sources) {
        expect({ source, exists: existsSync(join(ROOT, source)), ignored: dockerIgnores(ignored, source.replace(/^\.\//, '')) })
          .toEqual({ source, exists: true, ignored: false });
      }
    }
  });

  test("the stage that runs `npm run build` has what it needs: the script that compiles cronwarden-exec, and a C compiler", () => {
    const build = instructions.find((instruction) => instruction.keyword === 'RUN' && /\bnpm run build\b/.test(instruction.args));
    expect(build).toBeDefined();
    const before = instructions.slice(0, instructions.indexOf(build!)).filter((instruction) => instruction.stage === build!.stage);
    const copied = before
      .filter((instruction) => instruction.keyword === 'COPY' && !instruction.args.includes('--from='))
      .flatMap((copy) => copy.args.split(' ').filter((word) => !word.startsWith('--')).slice(0, -1))
      .map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
    const buildScript = (JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts.build;
    for (const file of buildScript.match(/scripts\/[\w.-]+/g) ?? []) {
      expect({ file, copied: copied.some((source) => file === source || file.startsWith(`${source}/`)) }).toEqual({ file, copied: true });
    }
    expect(buildScript).toMatch(/scripts\/build-exec-helper\.sh/);
    expect(before.some((instruction) => instruction.keyword === 'RUN' && /apt-get install .*\bgcc\b/.test(instruction.args))).toBe(true);
  });

  test('copies between stages name an earlier stage', () => {
    for (const [index, instruction] of instructions.entries()) {
      const from = /--from=(\S+)/.exec(instruction.args)?.[1];
      if (!from) continue;
      expect(instructions.slice(0, index).some((earlier) => earlier.keyword === 'FROM' && earlier.stage === from)).toBe(true);
    }
  });

  test('the runtime runs what npm start runs, as a non-root user, under tini', () => {
    const packageJson = JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> };
    expect(jsonArgs(inFinalStage('CMD')[0].args).join(' ')).toBe(packageJson.scripts.start);
    const user = inFinalStage('USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(jsonArgs(inFinalStage('ENTRYPOINT')[0].args)).toEqual(['/usr/bin/tini', '--']);
    expect(inFinalStage('RUN').some((run) => /apt-get install .*\btini\b/.test(run.args))).toBe(true);
  });

  test('the volume is the data directory the image points the daemon at', () => {
    const dataDir = /CRONWARDEN_DATA_DIR=(\S+)/.exec(inFinalStage('ENV').map((env) => env.args).join(' '))?.[1];
    expect(dataDir).toBe('/var/lib/cronwarden');
    expect(inFinalStage('VOLUME').map((volume) => volume.args)).toEqual([dataDir]);
  });

  test('the health check command passes on a 200 from /health/live and fails on a 503', async () => {
    const [, command] = /^(?:--\S+ )*CMD (.*)$/.exec(inFinalStage('HEALTHCHECK')[0].args)!;
    const argv = jsonArgs(command);
    const healthy = await runAgainst(argv, (path) => (path === '/health/live' ? 200 : 404));
    const failing = await runAgainst(argv, () => 503);
    expect({ healthy, failing }).toEqual({ healthy: 0, failing: 1 });
  });

  test('the daemon serves the route the health check asks', () => {
    const controller = readRepoFile('src/health/health.controller.ts');
    expect(controller).toMatch(/@Controller\('health'\)/);
    expect(controller).toMatch(/@Get\('live'\)/);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const services = Object.entries(compose.services);
  const nodes = services.filter(([, service]) => service.build);

  test('builds two or more nodes from this Dockerfile', () => {
    expect(nodes.length).toBeGreaterThanOrEqual(2);
    for (const [, node] of nodes) {
      expect(resolve(ROOT, node.build!.context, node.build!.dockerfile)).toBe(join(ROOT, 'Dockerfile'));
    }
  });

  test('every node uses the same PostgreSQL service and the same token secret', () => {
    const urls = new Set(nodes.map(([, node]) => node.environment?.DATABASE_URL));
    expect(urls.size).toBe(1);
    const host = new URL([...urls][0]!).hostname;
    expect(compose.services[host]?.image).toMatch(/^postgres:16/);
    expect(new Set(nodes.map(([, node]) => node.environment?.JWT_SECRET)).size).toBe(1);
  });

  test('nodes get enough time to stop their runs and read the mounted config', () => {
    const budget = shutdownBudgetMs(shippedConfig());
    for (const [, node] of nodes) {
      expect(parseDuration(node.stop_grace_period!)).toBeGreaterThanOrEqual(budget + 5_000);
      const mount = node.volumes!.map((volume) => volume.split(':')).find(([, target]) => target === node.environment?.CRONWARDEN_CONFIG);
      expect(mount).toBeDefined();
      expect(existsSync(join(ROOT, mount![0]))).toBe(true);
    }
  });
});

/** Runs the health check command against a local server answering with `status(path)`; resolves its exit code. */
async function runAgainst(argv: string[], status: (path: string) => number): Promise<number | null> {
  const server: Server = createServer((request, response) => response.writeHead(status(request.url ?? '')).end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const port = (server.address() as AddressInfo).port;
    const [program, ...args] = argv;
    const child = spawn(program, args, { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  } finally {
    server.close();
  }
}
