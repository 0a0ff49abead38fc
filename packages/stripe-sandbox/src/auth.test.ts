import { accountIdForKey, apiKeyFromHeader, isTestKey, maskKey } from './auth.js';
import { AuthenticationError } from './errors.js';

describe('auth', () => {
  it('masks keys like Stripe: first 11, stars, last 4', () => {
    expect(maskKey('sk_test_abcdefghwxyz')).toBe('sk_test_abc*****wxyz');
    expect(maskKey('short_key')).toBe('*****_key');
  });

  it('reads Bearer and Basic, and refuses a missing header', () => {
    expect(apiKeyFromHeader('Bearer sk_test_1')).toBe('sk_test_1');
    expect(apiKeyFromHeader(`Basic ${Buffer.from('sk_test_2:').toString('base64')}`)).toBe('sk_test_2');
    expect(() => apiKeyFromHeader(undefined)).toThrow(AuthenticationError);
    expect(() => apiKeyFromHeader('Token x')).toThrow(AuthenticationError);
  });

  it('accepts test-mode secret and restricted keys only, each its own stable account', () => {
    expect(isTestKey('sk_test_1')).toBe(true);
    expect(isTestKey('rk_test_1')).toBe(true);
    expect(isTestKey('sk_live_1')).toBe(false);
    expect(isTestKey('pk_test_1')).toBe(false);
    expect(isTestKey('sk_test_')).toBe(false);
    expect(accountIdForKey('sk_test_1')).toBe(accountIdForKey('sk_test_1'));
    expect(accountIdForKey('sk_test_1')).toMatch(/^acct_[0-9a-f]{16}$/);
  });
});
