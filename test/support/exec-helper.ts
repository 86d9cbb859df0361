import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * cronwarden-exec as `npm run build` compiled it (scripts/build-exec-helper.sh): the tests of the
 * spawner run against it as well as against Node's spawn(). Without it they fail, rather than skip.
 */
export function builtExecHelper(): string {
  const path = fileURLToPath(new URL('../../dist/executor/cronwarden-exec', import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (with a C compiler) before these tests`);
  return path;
}
