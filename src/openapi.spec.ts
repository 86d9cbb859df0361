import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { ApiProtected, setupOpenApi } from './openapi.js';
import { httpAdapter } from './common/http-app.js';

@ApiProtected()
@Controller('api/probe')
class ProbeController {
  @Get()
  @ApiOkResponse({ schema: { type: 'object' } })
  probe() {
    return {};
  }
}

describe('setupOpenApi', () => {
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [ProbeController] }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(httpAdapter(), { logger: false });
    setupOpenApi(app, '1.2.3');
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    close = () => app.close();
  });
  afterAll(() => close());

  it('serves the document at /docs-json', async () => {
    const response = await fetch(`${url}/docs-json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { info: { title: string; version: string }; paths: Record<string, unknown> };
    expect(document.info).toMatchObject({ title: 'cronwarden', version: '1.2.3' });
    expect(Object.keys(document.paths)).toEqual(['/api/probe']);
  });

  it('serves the interactive UI at /docs', async () => {
    const response = await fetch(`${url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toContain('swagger-ui');
  });
});
