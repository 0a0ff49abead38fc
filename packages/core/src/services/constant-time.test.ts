import fc from 'fast-check';
import { constantTimeEqual, constantTimeEqualBytes } from './constant-time.js';

/** Bytes that remember which indexes were read: the proof that a comparison did not stop early. */
function recording(bytes: number[]): { view: ArrayLike<number>; read: Set<number> } {
  const read = new Set<number>();
  const view = new Proxy(bytes, {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) {
        read.add(Number(property));
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { view, read };
}

const indexes = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('constantTimeEqual', () => {
  const hash = 'a3f1c9e2'.repeat(8);

  it.each([
    ['equal strings', hash, hash, true],
    ['a difference in the first character', `b${hash.slice(1)}`, hash, false],
    ['a difference in the middle', `${hash.slice(0, 31)}x${hash.slice(32)}`, hash, false],
    ['a difference in the last character', `${hash.slice(0, -1)}0`, hash, false],
    ['a prefix', hash.slice(0, -1), hash, false],
    ['a longer string', `${hash}0`, hash, false],
    ['two empty strings', '', '', true],
    ['empty against non-empty', '', 'a', false],
    ['different non-ASCII characters of equal byte length', 'é', 'è', false],
    ['equal non-ASCII text', 'naïve ✓', 'naïve ✓', true],
  ])('gives the right answer for %s', (_what, a, b, expected) => {
    expect(constantTimeEqual(a, b)).toBe(expected);
    expect(constantTimeEqual(b, a)).toBe(expected);
  });

  it('agrees with === on any pair of strings', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => constantTimeEqual(a, b) === (a === b)),
      { numRuns: 2000 },
    );
    fc.assert(fc.property(fc.string(), (a) => constantTimeEqual(a, a)));
  });
});

describe('constantTimeEqualBytes', () => {
  it('reads every byte of both inputs even when the very first byte differs', () => {
    const a = recording([0, ...indexes(63).map(() => 7)]);
    const b = recording([1, ...indexes(63).map(() => 7)]);
    expect(constantTimeEqualBytes(a.view, b.view)).toBe(false);
    expect([...a.read].sort((x, y) => x - y)).toEqual(indexes(64));
    expect([...b.read].sort((x, y) => x - y)).toEqual(indexes(64));
  });

  it('reads every byte of the longer input when the lengths differ', () => {
    const short = recording([1, 2, 3]);
    const long = recording([9, 2, 3, 4, 5, 6]);
    expect(constantTimeEqualBytes(short.view, long.view)).toBe(false);
    expect([...long.read].sort((x, y) => x - y)).toEqual(indexes(6));
    expect([...short.read].sort((x, y) => x - y)).toEqual(indexes(6));
  });

  it('does as many reads for a mismatch at the start as for a match', () => {
    const equal = [recording(indexes(32)), recording(indexes(32))] as const;
    const differ = [recording([99, ...indexes(32).slice(1)]), recording(indexes(32))] as const;
    expect(constantTimeEqualBytes(equal[0].view, equal[1].view)).toBe(true);
    expect(constantTimeEqualBytes(differ[0].view, differ[1].view)).toBe(false);
    expect(differ[0].read.size + differ[1].read.size).toBe(equal[0].read.size + equal[1].read.size);
  });

  it('does not mistake bytes that differ only above the low bits', () => {
    expect(constantTimeEqualBytes([0x100], [0x000])).toBe(false);
    expect(constantTimeEqualBytes(new Uint8Array([1, 2, 255]), new Uint8Array([1, 2, 255]))).toBe(true);
  });
});
