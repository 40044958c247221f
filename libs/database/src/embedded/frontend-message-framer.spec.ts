import { FrontendMessageFramer } from './frontend-message-framer';

function typed(type: string, body: string): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b.write(type, 0, 'latin1');
  b.writeInt32BE(4 + body.length, 1);
  b.write(body, 5, 'latin1');
  return b;
}

function untyped(code: number, body = ''): Buffer {
  const b = Buffer.alloc(8 + body.length);
  b.writeInt32BE(8 + body.length, 0);
  b.writeInt32BE(code, 4);
  b.write(body, 8, 'latin1');
  return b;
}

describe('FrontendMessageFramer', () => {
  it('answers SSL requests apart, then frames the startup packet and typed messages', () => {
    const f = new FrontendMessageFramer();
    const startup = untyped(196608, 'user\0postgres\0\0');
    const out = f.push(Buffer.concat([untyped(80877103), startup, typed('Q', 'SELECT 1\0')]));
    expect(out.encryptionRequests).toBe(1);
    expect(out.cancel).toBe(false);
    expect(out.messages.map((m) => m.type)).toEqual(['startup', 'Q']);
    expect(out.messages[0]!.bytes.equals(startup)).toBe(true);
  });

  it('holds a message split across reads until it is complete, byte by byte', () => {
    const f = new FrontendMessageFramer();
    f.push(untyped(196608, 'user\0postgres\0\0'));
    const stream = Buffer.concat([typed('P', '\0SELECT $1\0\0\0'), typed('B', 'x'.repeat(300)), typed('S', '')]);
    const types: string[] = [];
    for (let i = 0; i < stream.length; i++) {
      types.push(...f.push(stream.subarray(i, i + 1)).messages.map((m) => m.type));
    }
    expect(types).toEqual(['P', 'B', 'S']);
  });

  it('reports a cancel request', () => {
    expect(new FrontendMessageFramer().push(untyped(80877102, '\0\0\0\x01\0\0\0\x02')).cancel).toBe(true);
  });
});
