import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators.js';

/**
 * The dashboard's own policy: helmet's default adds `upgrade-insecure-requests`, which would send
 * the page's scripts to https:// on a daemon reached over plain http on a LAN address.
 */
const UI_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

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
function uiFiles(): Map<string, string> {
  const directory = uiDirectory();
  const files = new Map<string, string>();
  for (const name of readdirSync(directory)) {
    if (/\.(html|css|js|svg)$/.test(name)) files.set(name, join(directory, name));
  }
  const require = createRequire(import.meta.url);
  files.set('vendor/cronstrue.js', require.resolve('cronstrue/dist/cronstrue.min.js'));
  return files;
}

/** Serves the operator dashboard at /ui. The pages are public; everything they show comes from the API with the signed-in token. */
@ApiExcludeController()
@Public()
@Controller('ui')
export class UiController {
  private readonly files = uiFiles();

  @Get()
  index(@Res() response: Response): void {
    this.send(response, 'index.html');
  }

  @Get('{*path}')
  file(@Param('path') path: string[] | string, @Res() response: Response): void {
    const name = Array.isArray(path) ? path.join('/') : path;
    this.send(response, name === '' ? 'index.html' : name);
  }

  private send(response: Response, name: string): void {
    const file = this.files.get(name);
    if (!file) throw new NotFoundException(`no such file: /ui/${name}`);
    response.setHeader('Content-Security-Policy', UI_CSP);
    // Files change with a new version of the daemon; revalidating keeps an upgrade visible at once.
    response.setHeader('Cache-Control', 'no-cache');
    response.sendFile(file);
  }
}
