import {
  InvalidRequestError,
  invalidInteger,
  parameterMissing,
  parameterUnknown,
  type JsonObject,
} from '../errors.js';
import type { FormHash, FormValue } from './form.js';

/** A metadata change as Stripe applies it: `metadata=` clears all, `metadata[k]=` deletes one key. */
export interface MetadataPatch {
  clear: boolean;
  set: Record<string, string>;
  unset: string[];
}

const INTEGER = /^-?\d+$/;
const MAX_METADATA_KEYS = 50;
const MAX_METADATA_KEY_LENGTH = 40;
const MAX_METADATA_VALUE_LENGTH = 500;

/**
 * Typed access to one decoded parameter hash, with Stripe's validation errors. Values arrive as strings;
 * an empty string means "unset" (SANDBOX.md §3.3 step 5), which the readers surface as `null` where the
 * field is nullable and as absent elsewhere. Every error names the full bracketed parameter path.
 */
export class Params {
  private constructor(
    private readonly values: FormHash,
    private readonly prefix: string,
  ) {}

  /**
   * Wraps `hash`, rejecting any key not in `allowed` with `parameter_unknown`. `allowed: 'any'` accepts
   * every key (for hashes the sandbox stores but does not interpret).
   */
  static of(hash: FormHash, allowed: readonly string[] | 'any', prefix = ''): Params {
    if (allowed !== 'any') {
      for (const key of Object.keys(hash)) {
        if (!allowed.includes(key)) {
          throw parameterUnknown(prefix === '' ? key : `${prefix}[${key}]`);
        }
      }
    }
    return new Params(hash, prefix);
  }

  /** The bracketed name of `key` inside this hash, as errors report it. */
  name(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}[${key}]`;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.values, key);
  }

  /** The raw decoded value, for hashes the sandbox keeps verbatim. */
  raw(key: string): FormValue | undefined {
    return this.has(key) ? this.values[key] : undefined;
  }

  private scalar(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) {
      return undefined;
    }
    if (typeof value !== 'string') {
      throw new InvalidRequestError(
        `Invalid string: ${this.name(key)} must be a string, not a hash or an array`,
        {
          param: this.name(key),
        },
      );
    }
    return value;
  }

  /** A string; `''` (unset) becomes null. */
  string(key: string): string | null | undefined {
    const value = this.scalar(key);
    return value === '' ? null : value;
  }

  /** A string that must be present and non-empty. */
  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === null) {
      throw parameterMissing(this.name(key));
    }
    return value;
  }

  /** An integer within bounds; `''` counts as absent. */
  integer(key: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    const value = this.scalar(key);
    if (value === undefined || value === '') {
      return undefined;
    }
    if (!INTEGER.test(value)) {
      throw invalidInteger(this.name(key), value);
    }
    const n = Number(value);
    if (!Number.isSafeInteger(n) || (bounds.min !== undefined && n < bounds.min)) {
      throw new InvalidRequestError(
        `Invalid ${this.name(key)}: must be at least ${bounds.min ?? Number.MIN_SAFE_INTEGER}`,
        { code: 'parameter_invalid_integer', param: this.name(key) },
      );
    }
    if (bounds.max !== undefined && n > bounds.max) {
      throw new InvalidRequestError(`Invalid ${this.name(key)}: must be at most ${bounds.max}`, {
        code: 'parameter_invalid_integer',
        param: this.name(key),
      });
    }
    return n;
  }

  requiredInteger(key: string, bounds: { min?: number; max?: number } = {}): number {
    const value = this.integer(key, bounds);
    if (value === undefined) {
      throw parameterMissing(this.name(key));
    }
    return value;
  }

  /** `true` or `false`; `''` counts as absent. */
  boolean(key: string): boolean | undefined {
    const value = this.scalar(key);
    if (value === undefined || value === '') {
      return undefined;
    }
    if (value !== 'true' && value !== 'false') {
      throw new InvalidRequestError(`Invalid boolean: ${value}`, { param: this.name(key) });
    }
    return value === 'true';
  }

  /** One of `values`; `''` becomes null. */
  enumeration<T extends string>(key: string, values: readonly T[]): T | null | undefined {
    const value = this.string(key);
    if (value === undefined || value === null) {
      return value;
    }
    if (!(values as readonly string[]).includes(value)) {
      const list =
        values.length > 1 ? `${values.slice(0, -1).join(', ')}, or ${values.at(-1) ?? ''}` : values[0];
      throw new InvalidRequestError(`Invalid ${this.name(key)}: must be one of ${list ?? ''}`, {
        param: this.name(key),
      });
    }
    return value as T;
  }

  /** An array of strings; `''` (unset) becomes an empty array. A lone string is accepted as one element. */
  stringArray(key: string): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) {
      return undefined;
    }
    if (value === '') {
      return [];
    }
    if (typeof value === 'string') {
      return [value];
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      throw new InvalidRequestError(`Invalid array: ${this.name(key)} must be an array of strings`, {
        param: this.name(key),
      });
    }
    return value as string[];
  }

  /** A nested hash with its own allowed keys; `''` becomes null. */
  hash(key: string, allowed: readonly string[] | 'any'): Params | null | undefined {
    const value = this.raw(key);
    if (value === undefined) {
      return undefined;
    }
    if (value === '') {
      return null;
    }
    if (typeof value === 'string' || Array.isArray(value)) {
      throw new InvalidRequestError(`Invalid object: ${this.name(key)} must be a hash`, {
        param: this.name(key),
      });
    }
    return Params.of(value, allowed, this.name(key));
  }

  /** A hash kept verbatim (strings inside) for fields the sandbox stores but does not interpret; `''` → null. */
  json(key: string): JsonObject | null | undefined {
    const value = this.raw(key);
    if (value === undefined || value === '') {
      return value === '' ? null : undefined;
    }
    if (typeof value === 'string' || Array.isArray(value)) {
      throw new InvalidRequestError(`Invalid object: ${this.name(key)} must be a hash`, {
        param: this.name(key),
      });
    }
    // Null-prototype hashes become plain objects.
    return JSON.parse(JSON.stringify(value)) as JsonObject;
  }

  /** A hash of string to string kept verbatim (nested values rejected), for `metadata`-like fields. */
  stringMap(key: string): Record<string, string> | null | undefined {
    const params = this.hash(key, 'any');
    if (params === null || params === undefined) {
      return params;
    }
    const out: Record<string, string> = {};
    for (const k of Object.keys(params.values)) {
      out[k] = params.requiredStringOrEmpty(k);
    }
    return out;
  }

  private requiredStringOrEmpty(key: string): string {
    return this.scalar(key) ?? '';
  }

  /** `metadata` with Stripe's unset semantics and limits (50 keys, key ≤ 40, value ≤ 500 characters). */
  metadata(key = 'metadata'): MetadataPatch | undefined {
    const value = this.raw(key);
    if (value === undefined) {
      return undefined;
    }
    if (value === '') {
      return { clear: true, set: {}, unset: [] };
    }
    const map = this.stringMap(key) ?? {};
    const patch: MetadataPatch = { clear: false, set: {}, unset: [] };
    for (const [k, v] of Object.entries(map)) {
      if (k.length > MAX_METADATA_KEY_LENGTH) {
        throw new InvalidRequestError(
          `Metadata keys can have up to ${MAX_METADATA_KEY_LENGTH} characters, but you passed in a key that is ${k.length} characters.`,
          { param: `${this.name(key)}[${k}]` },
        );
      }
      if (v.length > MAX_METADATA_VALUE_LENGTH) {
        throw new InvalidRequestError(
          `Metadata values can have up to ${MAX_METADATA_VALUE_LENGTH} characters, but you passed in a value that is ${v.length} characters.`,
          { param: `${this.name(key)}[${k}]` },
        );
      }
      if (v === '') {
        patch.unset.push(k);
      } else {
        patch.set[k] = v;
      }
    }
    return patch;
  }
}

/** Shared by every object without metadata: stored objects are never mutated, and there are many. */
export const EMPTY_METADATA: Readonly<Record<string, string>> = Object.freeze({});

/** Applies a metadata patch to the current metadata, returning a new object; enforces the 50-key limit. */
export function applyMetadata(
  current: Readonly<Record<string, string>>,
  patch: MetadataPatch | undefined,
): Readonly<Record<string, string>> {
  if (patch === undefined) {
    return current;
  }
  const next: Record<string, string> = patch.clear ? {} : { ...current };
  for (const k of patch.unset) {
    delete next[k];
  }
  Object.assign(next, patch.set);
  const size = Object.keys(next).length;
  if (size > MAX_METADATA_KEYS) {
    throw new InvalidRequestError(`You can have up to ${MAX_METADATA_KEYS} metadata keys.`, {
      param: 'metadata',
    });
  }
  return size === 0 ? EMPTY_METADATA : next;
}
