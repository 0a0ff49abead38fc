/** Every pay API key starts with this, so secret scanners and people recognise one. */
export const API_KEY_SECRET_PREFIX = 'psk_';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_CHARS = 40;
const SECRET_PATTERN = new RegExp(`^${API_KEY_SECRET_PREFIX}[0-9A-Za-z]{${SECRET_CHARS}}$`);

/** A new API key secret: the prefix and 40 base62 characters (~238 random bits). Shown once, never stored. */
export function generateApiKeySecret(): string {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  let out = '';
  while (out.length < SECRET_CHARS) {
    const bytes = new Uint8Array(64);
    globalThis.crypto.getRandomValues(bytes);
    for (const byte of bytes) {
      if (byte < 248 && out.length < SECRET_CHARS) {
        out += BASE62.charAt(byte % 62);
      }
    }
  }
  return `${API_KEY_SECRET_PREFIX}${out}`;
}

/** True when `value` has the shape of a pay API key secret. */
export function isApiKeySecret(value: string): boolean {
  return SECRET_PATTERN.test(value);
}

/** The SHA-256 of a secret, in hex: what the database stores and looks keys up by. */
export async function hashApiKeySecret(secret: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The part of a secret safe to show in listings: the prefix and four characters. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, API_KEY_SECRET_PREFIX.length + 4);
}
