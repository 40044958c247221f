import { connect, type Socket } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { LoggerModule } from 'nestjs-pino';
import type { Server } from 'node:http';
import { listen, type RunningApp } from './http-app';
import { z } from 'zod';
import { httpServerEnv } from '@app/config';
import { DEFAULT_HTTP_SERVER_LIMITS, httpServerLimits } from './http-server-limits';

@Controller()
class PingController {
  @Get('ping')
  ping(): string {
    return 'pong';
  }
}

@Module({ imports: [LoggerModule.forRoot({ pinoHttp: { level: 'silent' } })], controllers: [PingController] })
class PingModule {}

async function start(limits = DEFAULT_HTTP_SERVER_LIMITS): Promise<RunningApp> {
  const app = await NestFactory.create<NestExpressApplication>(PingModule, { logger: false, bufferLogs: true });
  return listen(app, 0, '127.0.0.1', { limits });
}

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.once('error', reject);
  });
}

/** The apps' shared listen(): Node's server limits are set explicitly, and they bite. */
describe('listen() server limits', () => {
  it('sets header, request and keep-alive timeouts and a connection cap on the server', async () => {
    const running = await start();
    try {
      const server = running.app.getHttpServer() as Server;
      expect({
        headersTimeoutMs: server.headersTimeout,
        requestTimeoutMs: server.requestTimeout,
        keepAliveTimeoutMs: server.keepAliveTimeout,
        maxConnections: server.maxConnections,
      }).toEqual(DEFAULT_HTTP_SERVER_LIMITS);
      // Keep-alive above common 60 s proxy idle timeouts; a request may not take longer than its headers allow.
      expect(server.keepAliveTimeout).toBeGreaterThan(60_000);
      expect(server.headersTimeout).toBeLessThanOrEqual(server.requestTimeout);
    } finally {
      await running.close();
    }
  });

  it('drops connections past maxConnections', async () => {
    const running = await start({ ...DEFAULT_HTTP_SERVER_LIMITS, maxConnections: 1 });
    const first = await open(running.url);
    try {
      const second = await open(running.url);
      const closed = await new Promise<boolean>((resolve) => {
        second.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 2_000);
      });
      expect(closed).toBe(true);
      const res = await new Promise<string>((resolve) => {
        first.once('data', (d: Buffer) => resolve(d.toString()));
        first.write('GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      expect(res).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      first.destroy();
      await running.close();
    }
  });

  it('cuts off a client that sends its headers slowly (slowloris) with 408', async () => {
    const running = await start({ ...DEFAULT_HTTP_SERVER_LIMITS, headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const s = await open(running.url);
    let sent = 0;
    const drip = setInterval(() => {
      if (s.writable) s.write(`x-slow-${sent++}: y\r\n`);
    }, 50);
    try {
      s.write('GET /ping HTTP/1.1\r\nHost: x\r\n');
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        s.on('data', (d: Buffer) => (text += d.toString()));
        s.once('close', () => resolve(text));
      });
      // Cut off while it was still sending headers: the request never reached the app.
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(sent).toBeGreaterThan(0);
    } finally {
      clearInterval(drip);
      s.destroy();
      await running.close();
    }
  });

  it('reads the limits from the httpServerEnv() settings', () => {
    const env = z.object(httpServerEnv()).parse({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_MAX_CONNECTIONS: '10' });
    expect(httpServerLimits(env)).toEqual({
      headersTimeoutMs: 5_000,
      requestTimeoutMs: DEFAULT_HTTP_SERVER_LIMITS.requestTimeoutMs,
      keepAliveTimeoutMs: DEFAULT_HTTP_SERVER_LIMITS.keepAliveTimeoutMs,
      maxConnections: 10,
    });
    const slowHeaders = z.object(httpServerEnv()).parse({ HTTP_HEADERS_TIMEOUT_MS: '40000' });
    expect(() => httpServerLimits(slowHeaders)).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
  });
});
