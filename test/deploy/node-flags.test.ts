import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DAEMON_NODE_FLAGS } from '../../src/common/node-flags.js';
import { npmStartWords, parseDockerfile, parseUnit, readRepoFile, ROOT } from './deploy-files.js';

/** The words of a command line that are node flags (`--…`) before the script. */
function nodeFlagsOf(words: string[]): string[] {
  const node = words.findIndex((word) => word === 'node' || word.endsWith('/node'));
  expect({ words, hasNode: node >= 0 }).toEqual({ words, hasNode: true });
  const flags: string[] = [];
  for (const word of words.slice(node + 1)) {
    if (!word.startsWith('--')) break;
    flags.push(word);
  }
  return flags;
}

describe("the daemon's node flags (src/common/node-flags.ts) on every way it is started", () => {
  test('npm start', () => {
    expect(nodeFlagsOf(npmStartWords())).toEqual(DAEMON_NODE_FLAGS);
  });

  test('the systemd unit', () => {
    const execStart = parseUnit(readRepoFile('systemd/cronwarden.service')).get('Service')!.get('ExecStart')!;
    expect(execStart).toHaveLength(1);
    expect(nodeFlagsOf(execStart[0].split(/\s+/))).toEqual(DAEMON_NODE_FLAGS);
  });

  test('the Docker image', () => {
    const cmd = parseDockerfile(readRepoFile('Dockerfile')).filter((instruction) => instruction.keyword === 'CMD').at(-1)!;
    expect(nodeFlagsOf(JSON.parse(cmd.args) as string[])).toEqual(DAEMON_NODE_FLAGS);
  });

  test('the cronwarden command (`cronwarden serve` runs the daemon in its own process), started through its #! line', async () => {
    const cli = join(ROOT, 'dist', 'cli.js');
    const shebang = readRepoFile('dist/cli.js').split('\n')[0];
    const [, interpreter, argument] = /^#!(\S+)(?: (.*))?$/.exec(shebang)!;
    expect(nodeFlagsOf(argument.split(' '))).toEqual(DAEMON_NODE_FLAGS);
    // As the kernel runs it: the interpreter, the rest of the line as one argument, the file, its arguments.
    const { stdout } = await promisify(execFile)(interpreter, [argument, cli, '--version'], { env: { PATH: process.env.PATH } });
    const { version } = JSON.parse(readRepoFile('package.json')) as { version: string };
    expect(stdout.trim()).toBe(version);
  });
});
