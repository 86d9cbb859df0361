import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** The built logger at `level`, in a process of its own (nest-winston is CommonJS, which Jest's ESM runtime cannot load). */
async function logAt(level: string) {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['test/fixtures/log-lines.mjs', level]);
  const lines = stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { level: string; message: string; context: string });
  return { lines: lines.map(({ level: lvl, message, context }) => `${lvl} ${message} [${context}]`), encoded: (JSON.parse(stderr) as { encoded: number }).encoded };
}

describe('the daemon logger', () => {
  it('drops lines below its level before formatting them', async () => {
    expect(await logAt('warn')).toEqual({
      lines: ['warn warn line [Fixture]', 'warn raised line [Fixture]', 'error error line [Fixture]'],
      // The info, verbose and debug lines carry a field; dropped first, it is never encoded.
      encoded: 0,
    });
  });

  it('writes every line at and above its level, fields encoded', async () => {
    const { lines, encoded } = await logAt('debug');
    expect(lines).toEqual([
      'info info line [Fixture]',
      'verbose verbose line [Fixture]',
      'debug debug line [Fixture]',
      'warn warn line [Fixture]',
      'warn raised line [Fixture]',
      'error error line [Fixture]',
    ]);
    expect(encoded).toBe(3);
  });

  it('writes errors alone at the error level', async () => {
    expect((await logAt('error')).lines).toEqual(['error error line [Fixture]']);
  });
});
