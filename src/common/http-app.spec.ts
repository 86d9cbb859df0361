import type { Server } from 'node:http';
import { Controller, Get } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { httpAdapter, REQUEST_TIMEOUT_MS } from './http-app.js';

@Controller()
class ProbeController {
  @Get('probe')
  probe() {
    return { ok: true };
  }
}

describe('httpAdapter', () => {
  it("keeps Node's limit on receiving a request (Fastify would lift it) and Fastify's 72 s keep-alive", async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [ProbeController] }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(httpAdapter(), { logger: false });
    await app.init();
    try {
      const server = app.getHttpServer() as Server;
      expect(server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
      expect(server.keepAliveTimeout).toBe(72_000);
    } finally {
      await app.close();
    }
  });
});
