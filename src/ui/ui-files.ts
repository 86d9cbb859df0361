import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The static files of the dashboard: `public/` beside this file when the build copied it there,
 * else the source folder of the checkout (tsc copies the .js files to dist but not .html/.css).
 */
export function uiDirectory(): string {
  const beside = fileURLToPath(new URL('./public/', import.meta.url));
  if (existsSync(join(beside, 'index.html'))) return beside;
  return fileURLToPath(new URL('../../src/ui/public/', import.meta.url));
}

/** Every file the dashboard may serve, by its name under /ui/: nothing outside this list is read. */
export function uiFiles(): Map<string, string> {
  const directory = uiDirectory();
  const files = new Map<string, string>();
  for (const name of readdirSync(directory)) {
    if (/\.(html|css|js|svg)$/.test(name)) files.set(name, join(directory, name));
  }
  const require = createRequire(import.meta.url);
  files.set('vendor/cronstrue.js', require.resolve('cronstrue/dist/cronstrue.min.js'));
  return files;
}
