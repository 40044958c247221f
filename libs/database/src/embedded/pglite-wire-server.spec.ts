import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { Client, Pool } from 'pg';
import { PgliteWireServer } from './pglite-wire-server';

/** A bare protocol client: sends frontend messages as given and reads backend messages (type + body). */
class RawPgClient {
  private buffer = Buffer.alloc(0);
  private readonly received: Array<{ type: string; body: Buffer }> = [];
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      while (this.buffer.length >= 5 && this.buffer.length >= 1 + this.buffer.readInt32BE(1)) {
        const len = 1 + this.buffer.readInt32BE(1);
        this.received.push({ type: String.fromCharCode(this.buffer[0]!), body: this.buffer.subarray(5, len) });
        this.buffer = this.buffer.subarray(len);
      }
      this.wake?.();
    });
  }

  static async open(port: number): Promise<RawPgClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new RawPgClient(socket);
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(196608, 4);
    socket.write(Buffer.concat([startup, params]));
    await c.until('Z');
    return c;
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** Every message received up to and including the first of `type` not yet consumed. */
  async until(type: string): Promise<Array<{ type: string; body: Buffer }>> {
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type);
      if (i >= 0) return this.received.splice(0, i + 1);
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function msg(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);
const int16 = (v: number): Buffer => Buffer.from([(v >> 8) & 0xff, v & 0xff]);
const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
};

/** Real PGlite (in memory) behind the wire server, driven by node-postgres as the apps drive it. */
describe('PgliteWireServer', () => {
  let db: PGlite;
  let server: PgliteWireServer;
  let url: string;

  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec(`CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int NOT NULL, note text)`);
    server = new PgliteWireServer({ db, host: '127.0.0.1', port: 0, holdTimeoutMs: 1_000 });
    url = `postgres://postgres:postgres@127.0.0.1:${await server.start()}/postgres?sslmode=disable`;
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    await db.close();
  });

  beforeEach(() => db.exec('TRUNCATE items'));

  it('keeps concurrent parameterised queries of different shapes apart (no clobbered unnamed statements)', async () => {
    const pool = new Pool({ connectionString: url, max: 12 });
    try {
      const jobs = Array.from({ length: 300 }, (_, i) => async () => {
        if (i % 3 === 0) {
          await pool.query('INSERT INTO items (name, qty, note) VALUES ($1, $2, $3)', [`n${i}`, i, 'x']);
          return { i, kind: 'insert' as const };
        }
        if (i % 3 === 1) {
          const r = await pool.query<{ v: number }>('SELECT $1::int * 2 AS v', [i]);
          return { i, kind: 'double' as const, v: r.rows[0]!.v };
        }
        const r = await pool.query<{ s: string; t: string }>('SELECT $1::text AS s, $2::text AS t', [`a${i}`, `b${i}`]);
        return { i, kind: 'pair' as const, s: r.rows[0]!.s, t: r.rows[0]!.t };
      });
      const results = await Promise.all(jobs.map((j) => j()));
      for (const r of results) {
        if (r.kind === 'double') expect(r.v).toBe(r.i * 2);
        if (r.kind === 'pair') expect([r.s, r.t]).toEqual([`a${r.i}`, `b${r.i}`]);
      }
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM items');
      expect(Number(rows[0]!.n)).toBe(100);
    } finally {
      await pool.end();
    }
  });

  it("keeps another client's batch out while one client's extended-protocol batch is half sent", async () => {
    // A client sends Parse, flushes, and only then its Bind / Execute / Sync (as a client does when a large Bind
    // arrives in several reads). Another client's whole batch must not run in between on the shared session.
    const port = Number(new URL(url).port);
    const a = await RawPgClient.open(port);
    const b = new Client({ connectionString: url });
    await b.connect();
    try {
      a.send(msg('P', cstr(''), cstr('SELECT $1::int + 1 AS v'), int16(0)), msg('H'));
      await a.until('1');
      const other = b.query<{ s: string; t: string }>('SELECT $1::text AS s, $2::text AS t', ['x', 'y']);
      // Time for the other batch to reach the server (it must wait for this client's Sync, whatever the timing).
      await Promise.race([other, sleep(300)]);
      a.send(
        msg('B', cstr(''), cstr(''), int16(0), int16(1), int32(2), Buffer.from('41'), int16(0)),
        msg('E', cstr(''), int32(0)),
        msg('S'),
      );
      const answer = await a.until('Z');
      expect(answer.filter((m) => m.type === 'E').map((m) => m.body.toString('latin1'))).toEqual([]);
      const row = answer.find((m) => m.type === 'D')!;
      expect(row.body.subarray(6).toString('latin1')).toBe('42');
      expect((await other).rows).toEqual([{ s: 'x', t: 'y' }]);
    } finally {
      a.close();
      await b.end();
    }
  });

  it('runs one transaction at a time: another connection waits for the commit and then sees it', async () => {
    const a = new Client({ connectionString: url });
    const b = new Client({ connectionString: url });
    await a.connect();
    await b.connect();
    try {
      await a.query('BEGIN');
      await a.query('INSERT INTO items (name, qty) VALUES ($1, $2)', ['in-tx', 1]);
      const order: string[] = [];
      const seen = b.query<{ n: string }>('SELECT count(*) AS n FROM items').then((r) => {
        order.push('b read');
        return Number(r.rows[0]!.n);
      });
      await a.query('INSERT INTO items (name, qty) VALUES ($1, $2)', ['in-tx', 2]);
      order.push('a commit');
      await a.query('COMMIT');
      expect(await seen).toBe(2);
      expect(order).toEqual(['a commit', 'b read']);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('rolls back what a client left open when it goes away, and serves the others', async () => {
    const a = new Client({ connectionString: url });
    a.on('error', () => undefined);
    await a.connect();
    await a.query('BEGIN');
    await a.query('INSERT INTO items (name, qty) VALUES ($1, $2)', ['abandoned', 1]);
    const pool = new Pool({ connectionString: url, max: 2 });
    try {
      const waiting = pool.query<{ n: string }>(`SELECT count(*) AS n FROM items WHERE name = 'abandoned'`);
      await a.end();
      expect(Number((await waiting).rows[0]!.n)).toBe(0);
      expect(db.isInTransaction()).toBe(false);
    } finally {
      await pool.end();
    }
  });

  it('cuts off a client that holds the session idle in a transaction past the hold timeout', async () => {
    const a = new Client({ connectionString: url });
    const cut = new Promise<Error>((resolve) => a.on('error', resolve));
    await a.connect();
    await a.query('BEGIN');
    await a.query('INSERT INTO items (name, qty) VALUES ($1, $2)', ['stuck', 1]);
    const b = new Client({ connectionString: url });
    await b.connect();
    try {
      // b queues behind a's open transaction until the server ends it.
      const { rows } = await b.query<{ n: string }>(`SELECT count(*) AS n FROM items WHERE name = 'stuck'`);
      expect(Number(rows[0]!.n)).toBe(0);
      expect((await cut).message).toMatch(/terminated|ECONNRESET|closed/i);
    } finally {
      await b.end();
      await a.end().catch(() => undefined);
    }
  });

  it('a statement error inside one client batch does not leak into the next client', async () => {
    const pool = new Pool({ connectionString: url, max: 6 });
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          i % 4 === 0
            ? pool.query('INSERT INTO items (name, qty) VALUES ($1, $2)', [null, i])
            : pool.query('INSERT INTO items (name, qty) VALUES ($1, $2) RETURNING id', [`ok${i}`, i]),
        ),
      );
      outcomes.forEach((o, i) => {
        if (i % 4 === 0) expect(o).toMatchObject({ status: 'rejected', reason: { code: '23502' } });
        else expect(o.status).toBe('fulfilled');
      });
      expect(server.stats().waiting).toBe(0);
    } finally {
      await pool.end();
    }
  });
});
