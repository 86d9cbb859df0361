/** Reading the deployment files (systemd unit, env template, Dockerfile) the way their tools do, for the deploy tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.loader.js';
import type { CronwardenConfig } from '../../src/config/config.types.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How long the embedded database may take to stop after the runs (EmbeddedPostgres stopTimeoutMs default). */
const EMBEDDED_STOP_MS = 10_000;

export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** `npm start`'s command line in package.json, word by word: `node`, its flags, the entry point. */
export function npmStartWords(): string[] {
  const { scripts } = JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> };
  return scripts.start.split(' ');
}

/** The shipped config/cronwarden.yaml as the daemon would load it. */
export function shippedConfig(): CronwardenConfig {
  return loadConfig({ file: 'config/cronwarden.yaml', env: { JWT_SECRET: 'x'.repeat(32) }, cwd: ROOT });
}

/**
 * The longest a SIGTERM'd daemon on the shipped config may take to exit: runs finish for
 * shutdownGrace, then the slowest pipeline's killGrace before SIGKILL, then the embedded database stops.
 */
export function shutdownBudgetMs(config: CronwardenConfig): number {
  const killGraces = [...config.pipelines.values()].map((pipeline) => pipeline.killGraceMs);
  return config.daemon.shutdownGraceMs + Math.max(0, ...killGraces) + EMBEDDED_STOP_MS;
}

/** A systemd unit file as section -> key -> values (a key may repeat), comments and blank lines dropped. */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const equals = line.indexOf('=');
    if (!current || equals < 0) throw new Error(`not a unit file line: ${line}`);
    const key = line.slice(0, equals).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(equals + 1).trim()]);
  }
  return sections;
}

/** An env file (`NAME=value` lines) as name -> value; `#NAME=value` lines are documented but unset. */
export function parseEnvFile(text: string): { set: Map<string, string>; documented: Set<string> } {
  const set = new Map<string, string>();
  const documented = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^(#?)([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    documented.add(match[2]);
    if (match[1] === '') set.set(match[2], match[3]);
  }
  return { set, documented };
}

/** The environment variables the daemon reads: every `get('NAME')`, `set('NAME')` and `env.NAME` in src/config. */
export function environmentVariablesRead(): string[] {
  const files = readdirSync(join(ROOT, 'src/config')).filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'));
  const names = new Set<string>();
  for (const file of files) {
    const source = readRepoFile(join('src/config', file));
    for (const match of source.matchAll(/\b(?:get|set)\('([A-Z][A-Z0-9_]*)'\)|\benv\.([A-Z][A-Z0-9_]*)/g)) {
      names.add(match[1] ?? match[2]);
    }
  }
  return [...names].sort();
}

export interface DockerInstruction {
  /** Which stage it belongs to (its `AS` name, or its index). */
  stage: string;
  keyword: string;
  args: string;
}

/** A Dockerfile as its instructions: continuation lines joined, comments and parser directives dropped. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    const continued = /\\\s*$/.test(raw);
    pending += continued ? raw.replace(/\\\s*$/, ' ') : raw;
    if (!continued) {
      if (pending.trim() !== '') logical.push(pending.trim());
      pending = '';
    }
  }
  const instructions: DockerInstruction[] = [];
  let stage = '';
  for (const [index, line] of logical.entries()) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    if (keyword.toUpperCase() === 'FROM') stage = /\sAS\s+(\S+)/i.exec(line)?.[1] ?? String(index);
    instructions.push({ stage, keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ').trim() });
  }
  return instructions;
}

/** Whether `.dockerignore` patterns leave `path` (relative to the context) out of the build context. */
export function dockerIgnores(patterns: string[], path: string): boolean {
  let ignored = false;
  const parts = path.split('/');
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(`^${pattern.split('**').map((piece) => piece.split('*').map(escapeRegex).join('[^/]*')).join('.*')}$`);
    // A pattern that matches a parent directory excludes everything under it.
    const hit = parts.some((_, index) => regex.test(parts.slice(0, index + 1).join('/')));
    if (hit) ignored = !negated;
  }
  return ignored;
}

export function dockerignorePatterns(text: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
