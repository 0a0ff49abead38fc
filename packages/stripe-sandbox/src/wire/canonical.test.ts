import { canonicalJson, requestFingerprint } from './canonical.js';

describe('canonicalJson', () => {
  it('sorts hash keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: '1', a: { d: '2', c: ['y', 'x'] } })).toBe(
      '{"a":{"c":["y","x"],"d":"2"},"b":"1"}',
    );
  });

  it('makes fingerprints independent of key order but not of values, method or path', () => {
    const a = requestFingerprint('POST', '/v1/refunds', { amount: '100', charge: 'ch_1' });
    expect(requestFingerprint('POST', '/v1/refunds', { charge: 'ch_1', amount: '100' })).toBe(a);
    expect(requestFingerprint('POST', '/v1/refunds', { charge: 'ch_1', amount: '101' })).not.toBe(a);
    expect(requestFingerprint('POST', '/v1/charges', { charge: 'ch_1', amount: '100' })).not.toBe(a);
  });
});
