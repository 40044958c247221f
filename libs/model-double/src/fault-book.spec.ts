import { FaultBook } from './faults';

describe('FaultBook', () => {
  it('applies plans first in first out, counting only taken requests', () => {
    const book = new FaultBook();
    book.inject({ kind: 'overloaded', count: 2 });
    book.inject({ kind: 'slow', delayMs: 10, count: 1 });
    expect(book.peek()?.kind).toBe('overloaded');
    expect(book.peek()?.kind).toBe('overloaded');
    expect(book.take()?.kind).toBe('overloaded');
    expect(book.list()).toEqual([
      { kind: 'overloaded', count: 1 },
      { kind: 'slow', count: 1, delayMs: 10 },
    ]);
    expect(book.take()?.kind).toBe('overloaded');
    expect(book.take()).toEqual({ kind: 'slow', delayMs: 10 });
    expect(book.take()).toBeUndefined();
  });

  it('keeps a plan without count until cleared', () => {
    const book = new FaultBook();
    book.inject({ kind: 'unavailable' });
    for (let i = 0; i < 5; i++) expect(book.take()?.kind).toBe('unavailable');
    book.clear();
    expect(book.take()).toBeUndefined();
  });
});
