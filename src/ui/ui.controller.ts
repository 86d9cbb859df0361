import { basename, dirname } from 'node:path';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { uiFiles } from './ui-files.js';

/**
 * The dashboard's own policy: helmet's default adds `upgrade-insecure-requests`, which would send
 * the page's scripts to https:// on a daemon reached over plain http on a LAN address.
 */
const UI_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** Serves the operator dashboard at /ui. The pages are public; everything they show comes from the API with the signed-in token. */
@ApiExcludeController()
@Public()
@Controller('ui')
export class UiController {
  private readonly files = uiFiles();

  @Get()
  index(@Res() reply: FastifyReply): void {
    this.send(reply, 'index.html');
  }

  /** Fastify's wildcard: `name` is the rest of the path after /ui/, possibly empty. */
  @Get('*')
  file(@Param('*') name: string, @Res() reply: FastifyReply): void {
    this.send(reply, name === '' ? 'index.html' : name);
  }

  private send(reply: FastifyReply, name: string): void {
    const file = this.files.get(name);
    if (!file) throw new NotFoundException(`no such file: /ui/${name}`);
    reply.header('Content-Security-Policy', UI_CSP);
    // Files change with a new version of the daemon; revalidating keeps an upgrade visible at once.
    reply.header('Cache-Control', 'no-cache');
    reply.sendFile(basename(file), dirname(file), { cacheControl: false });
  }
}
