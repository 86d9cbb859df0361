import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config.loader.js';
import { environmentVariablesRead, readRepoFile, ROOT } from './deploy-files.js';

const DOCS = readdirSync(join(ROOT, 'docs')).filter((file) => file.endsWith('.md'));
const reference = readRepoFile('docs/configuration.md');

/** The keys the loader accepts in each section, as its "unknown key" message lists them. */
function acceptedKeys(): Record<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cronwarden-keys-'));
  try {
    const file = join(dir, 'keys.yaml');
    writeFileSync(file, [
      'zzz_unknown: 1',
      'daemon: { zzz_unknown: 1 }',
      'pipelines:',
      '  p: { command: ["true"], zzz_unknown: 1, retries: { zzz_unknown: 1 }, notify: [{ zzz_unknown: 1 }] }',
      'jobs:',
      '  j: { pipeline: p, every: 1h, zzz_unknown: 1 }',
    ].join('\n'));
    loadConfig({ file, env: { JWT_SECRET: 'x'.repeat(32) }, cwd: dir });
    throw new Error('the config with unknown keys loaded');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const keysAt = (path: string) => {
      const problem = error.problems.find((candidate) => candidate.path === path);
      if (!problem) throw new Error(`no unknown-key problem at ${path}: ${error.message}`);
      return /expected one of: (.*)$/.exec(problem.message)![1].split(', ').sort();
    };
    return {
      '## Top level': keysAt('zzz_unknown'),
      '## `daemon`': keysAt('daemon.zzz_unknown'),
      '## `pipelines.<id>`': keysAt('pipelines.p.zzz_unknown'),
      '### `pipelines.<id>.retries`': keysAt('pipelines.p.retries.zzz_unknown'),
      '## `jobs.<id>`': keysAt('jobs.j.zzz_unknown'),
      '## Notifications: `notify`': keysAt('pipelines.p.notify'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The names in the first column of the tables under `heading`, up to the next heading. */
function documentedNames(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`no heading "${heading}"`);
  const end = lines.findIndex((line, index) => index > start && /^#{1,3} /.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end)
    .map((line) => /^\| `([^`]+)` \|/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to dashes. */
function anchorOf(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

/** Every route the controllers declare, as a regex over concrete paths. */
function declaredRoutes(): RegExp[] {
  const routes: RegExp[] = [];
  const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
  for (const folder of folders) {
    for (const file of readdirSync(join(ROOT, 'src', folder.name)).filter((name) => name.endsWith('.controller.ts'))) {
      const source = readRepoFile(join('src', folder.name, file));
      const prefix = /@Controller\('([^']*)'\)/.exec(source)?.[1] ?? '';
      for (const [, , path] of source.matchAll(/@(Get|Post|Patch|Put|Delete)\((?:'([^']*)')?\)/g)) {
        const full = `/${[prefix, path ?? ''].filter(Boolean).join('/')}`;
        routes.push(new RegExp(`^${full.replace(/:[A-Za-z]+/g, '[^/]+')}$`));
      }
    }
  }
  return routes;
}

describe('docs/configuration.md', () => {
  test.each(Object.entries(acceptedKeys()))('the section %s has a row for exactly the keys the loader accepts', (heading, keys) => {
    expect(documentedNames(reference, heading)).toEqual(keys);
  });

  test('it has a row for exactly the environment variables the daemon reads', () => {
    expect(documentedNames(reference, '## Environment variables')).toEqual(environmentVariablesRead());
  });
});

describe('docs/', () => {
  test.each(DOCS)('the links in %s point at docs and headings that exist', (file) => {
    for (const [, target, anchor] of readRepoFile(join('docs', file)).matchAll(/\]\(([\w.-]*\.md)?(?:#([\w-]+))?\)/g)) {
      const linked = readRepoFile(join('docs', target ?? file));
      if (anchor === undefined) continue;
      const anchors = linked.split('\n').filter((line) => /^#{1,6} /.test(line)).map((line) => anchorOf(line.replace(/^#+ /, '')));
      expect({ link: `${target ?? file}#${anchor}`, found: anchors.includes(anchor) }).toEqual({ link: `${target ?? file}#${anchor}`, found: true });
    }
  });

  test.each(DOCS)('every API path called in %s is a route the daemon serves', (file) => {
    const routes = declaredRoutes();
    const calls = [...readRepoFile(join('docs', file)).matchAll(/(?:\$CW|http:\/\/(?:127\.0\.0\.1|localhost):\d+)(\/[^\s"'?)`|]*)/g)].map((match) => match[1]);
    for (const path of calls) {
      expect({ path, served: routes.some((route) => route.test(path)) }).toEqual({ path, served: true });
    }
  });
});
