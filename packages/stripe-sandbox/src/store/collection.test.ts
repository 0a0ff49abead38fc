import { Collection } from './collection.js';

function filled(n: number): Collection<{ id: string; n: number }> {
  const c = new Collection<{ id: string; n: number }>('thing');
  for (let i = 0; i < n; i += 1) {
    c.insert(`t${i}`, { id: `t${i}`, n: i });
  }
  return c;
}

const ids = (page: { items: { id: string }[] }): string[] => page.items.map((i) => i.id);

describe('Collection.page', () => {
  it('pages newest first with has_more', () => {
    const c = filled(5);
    expect(ids(c.page({ limit: 2 }))).toEqual(['t4', 't3']);
    expect(c.page({ limit: 2 }).hasMore).toBe(true);
    expect(ids(c.page({ limit: 2, startingAfter: 't3' }))).toEqual(['t2', 't1']);
    const last = c.page({ limit: 2, startingAfter: 't1' });
    expect(ids(last)).toEqual(['t0']);
    expect(last.hasMore).toBe(false);
  });

  it('returns the page just newer than ending_before, newest first', () => {
    const c = filled(6);
    const page = c.page({ limit: 2, endingBefore: 't1' });
    expect(ids(page)).toEqual(['t3', 't2']);
    expect(page.hasMore).toBe(true);
    expect(c.page({ limit: 10, endingBefore: 't3' }).hasMore).toBe(false);
  });

  it('filters, replaces in place, and rejects bad cursors', () => {
    const c = filled(6);
    expect(ids(c.page({ limit: 10 }, (t) => t.n % 2 === 0))).toEqual(['t4', 't2', 't0']);
    c.replace('t2', { id: 't2', n: 99 });
    expect(c.get('t2')?.n).toBe(99);
    expect(ids(c.page({ limit: 3 }))).toEqual(['t5', 't4', 't3']);
    expect(() => c.page({ limit: 1, startingAfter: 'nope' })).toThrow("No such thing: 'nope'");
    expect(() => c.page({ limit: 1, startingAfter: 't1', endingBefore: 't2' })).toThrow(/only specify one/);
    expect(() => c.replace('nope', { id: 'nope', n: 0 })).toThrow();
  });
});
