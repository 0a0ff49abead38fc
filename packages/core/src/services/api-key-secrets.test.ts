import { createHash } from 'node:crypto';
import {
  API_KEY_SECRET_PREFIX,
  displayPrefix,
  generateApiKeySecret,
  hashApiKeySecret,
  isApiKeySecret,
} from './api-key-secrets.js';

describe('API key secrets', () => {
  it('are prefixed, well-formed and distinct', () => {
    const secrets = new Set(Array.from({ length: 1000 }, generateApiKeySecret));
    expect(secrets.size).toBe(1000);
    for (const secret of secrets) {
      expect(secret.startsWith(API_KEY_SECRET_PREFIX)).toBe(true);
      expect(isApiKeySecret(secret)).toBe(true);
    }
    expect(isApiKeySecret('psk_short')).toBe(false);
  });

  it('are stored as their SHA-256, never in clear', async () => {
    const secret = generateApiKeySecret();
    const hash = await hashApiKeySecret(secret);
    expect(hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(hash).not.toContain(secret.slice(API_KEY_SECRET_PREFIX.length));
  });

  it('show only the prefix and four characters in listings', () => {
    expect(displayPrefix('psk_abcdefgh')).toBe('psk_abcd');
  });
});
