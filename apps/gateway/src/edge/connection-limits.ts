import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { sourceKey } from './client-source';

export interface ConnectionLimitOptions {
  /** Open connections per source at most; the next one is closed as soon as it is accepted. */
  readonly maxPerSource: number;
  /** True for a peer whose connections carry many clients (a trusted proxy): not limited per source. */
  isTrustedPeer(address: string): boolean;
  onRefused(source: string): void;
}

/**
 * Caps the connections one source holds open (slow or idle ones included), so one client cannot take all of the
 * server's maxConnections. Only sources with connections open are tracked: the table is bounded by maxConnections.
 */
export function limitConnectionsPerSource(server: Server, opts: ConnectionLimitOptions): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address && opts.isTrustedPeer(address)) return;
    const source = sourceKey(address);
    const count = (open.get(source) ?? 0) + 1;
    if (count > opts.maxPerSource) {
      socket.destroy();
      opts.onRefused(source);
      return;
    }
    open.set(source, count);
    socket.once('close', () => {
      const left = (open.get(source) ?? 1) - 1;
      if (left > 0) open.set(source, left);
      else open.delete(source);
    });
  });
}
