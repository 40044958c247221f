import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a HeldHttpServer holds: answered when the test says so. */
export interface HeldRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: string;
}

/**
 * A stand-in upstream on loopback for a client's connection handling: holds every request until the test answers
 * it, and counts the connections it was given (a connection cap, keep-alive reuse and aborts are then observable).
 */
export class HeldHttpServer {
  readonly server: Server;
  connections = 0;
  readonly held: HeldRequest[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        this.held.push({ req, res, body });
        this.waiters = this.waiters.filter((w) => (this.held.length >= w.n ? (w.resolve(), false) : true));
      });
    });
    this.server.on('connection', () => (this.connections += 1));
  }

  /** Listens on a free loopback port; resolves with its base URL. */
  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once n requests have arrived in all (they stay held until answered). */
  arrived(n: number): Promise<void> {
    if (this.held.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Answers the held requests in order, as they come, until `count` have been answered. */
  async answerEach(count: number, answer: (res: ServerResponse, i: number) => void): Promise<void> {
    for (let i = 0; i < count; i++) {
      await this.arrived(i + 1);
      answer(this.held[i]!.res, i);
    }
  }

  /** Answers every held request, and every one that arrives after, with the given reply. */
  releaseAll(status: number, contentType: string, body: string): void {
    const answer = (res: ServerResponse): void => void res.writeHead(status, { 'content-type': contentType }).end(body);
    this.held.splice(0).forEach((h) => answer(h.res));
    this.server.removeAllListeners('request');
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => answer(res));
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}
