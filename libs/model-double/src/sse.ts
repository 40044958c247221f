import type { ServerResponse } from 'node:http';

/** An OpenAI-style server-sent-events stream: `data: {json}\n\n` per event, then `data: [DONE]\n\n`. */
export class SseStream {
  constructor(private readonly res: ServerResponse) {}

  open(): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
    this.res.flushHeaders();
  }

  /** Resolves once the event is handed to the socket. */
  send(event: object): Promise<void> {
    return this.write(`data: ${JSON.stringify(event)}\n\n`);
  }

  done(): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.end('data: [DONE]\n\n');
  }

  private write(text: string): Promise<void> {
    if (this.res.writableEnded || this.res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const settle = (): void => {
        this.res.off('close', settle);
        resolve();
      };
      this.res.once('close', settle);
      this.res.write(text, settle);
    });
  }
}
