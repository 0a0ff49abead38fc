import { UnknownGatewayStateError } from '@pay/core';

/**
 * A JSON object from Stripe that no SDK call typed for us (a webhook payload), read field by field.
 * Every read checks the one field pay relies on and names it in the error; the error carries the field's
 * path and JSON type, never its value, because payloads hold card holders' details.
 */
export class JsonFields {
  private constructor(
    private readonly value: Readonly<Record<string, unknown>>,
    /** Where this object sits in the payload (`event.data.object`), for the error. */
    readonly path: string,
    private readonly context: Readonly<Record<string, unknown>>,
  ) {}

  /** `value` as an object; `context` (the event id, …) goes into every error read from it. */
  static of(value: unknown, path: string, context: Record<string, unknown> = {}): JsonFields {
    if (!isPlainObject(value)) {
      throw unreadable(path, 'an object', value, context);
    }
    return new JsonFields(value, path, context);
  }

  /** The same object, with more context for its errors (the event's id once it is known). */
  withContext(context: Record<string, unknown>): JsonFields {
    return new JsonFields(this.value, this.path, { ...this.context, ...context });
  }

  /** Whether the field is there at all (`null` counts as there). */
  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.value, key);
  }

  string(key: string): string {
    const value = this.value[key];
    if (typeof value !== 'string') {
      throw this.unreadable(key, 'a string', value);
    }
    return value;
  }

  /** A string that must not be empty: ids, types. */
  nonEmptyString(key: string): string {
    const value = this.string(key);
    if (value === '') {
      throw this.unreadable(key, 'a non-empty string', value);
    }
    return value;
  }

  nullableString(key: string): string | null {
    const value = this.value[key];
    return value === null ? null : this.string(key);
  }

  /** Absent, or null, reads as undefined: Stripe leaves optional fields out or sets them null. */
  optionalString(key: string): string | undefined {
    const value = this.value[key];
    return value === undefined || value === null ? undefined : this.string(key);
  }

  /** A whole number: amounts in minor units, unix times. */
  integer(key: string): number {
    const value = this.value[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw this.unreadable(key, 'an integer', value);
    }
    return value;
  }

  /** A non-negative whole number: amounts. */
  amount(key: string): number {
    const value = this.integer(key);
    if (value < 0) {
      throw this.unreadable(key, 'a non-negative integer', value);
    }
    return value;
  }

  boolean(key: string): boolean {
    const value = this.value[key];
    if (typeof value !== 'boolean') {
      throw this.unreadable(key, 'a boolean', value);
    }
    return value;
  }

  object(key: string): JsonFields {
    return JsonFields.of(this.value[key], `${this.path}.${key}`, this.context);
  }

  nullableObject(key: string): JsonFields | null {
    const value = this.value[key];
    return value === null ? null : this.object(key);
  }

  /** Absent or null reads as null. */
  optionalObject(key: string): JsonFields | null {
    const value = this.value[key];
    return value === undefined || value === null ? null : this.object(key);
  }

  /** A reference to another object: its id, or the object itself when the sender expanded it. */
  reference(key: string): string | null {
    return this.value[key] === null ? null : this.requiredReference(key);
  }

  /** A reference that is never null. */
  requiredReference(key: string): string {
    const value = this.value[key];
    return isPlainObject(value) ? this.object(key).nonEmptyString('id') : this.nonEmptyString(key);
  }

  /**
   * A field that names what something is (`object: "event"`). Its value is Stripe's vocabulary, not
   * anyone's data, so the error quotes it.
   */
  literal<T extends string>(key: string, expected: T): T {
    const value = this.string(key);
    if (value !== expected) {
      throw new UnknownGatewayStateError(
        `Stripe sent ${this.path}.${key} as ${JSON.stringify(value)}; pay expects ${JSON.stringify(expected)}.`,
        { context: { ...this.context, field: `${this.path}.${key}`, expected, got: value } },
      );
    }
    return expected;
  }

  /** Stripe's metadata: string values only; null (refunds may have none) reads as empty. */
  metadata(key: string): Record<string, string> {
    const value = this.value[key];
    if (value === null) {
      return {};
    }
    const fields = this.object(key);
    const metadata: Record<string, string> = {};
    for (const name of Object.keys(fields.value)) {
      metadata[name] = fields.string(name);
    }
    return metadata;
  }

  private unreadable(key: string, expected: string, value: unknown): UnknownGatewayStateError {
    return unreadable(`${this.path}.${key}`, expected, value, this.context);
  }
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonTypeOf(value: unknown): string {
  if (value === undefined) {
    return 'missing';
  }
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    return 'a fraction';
  }
  return `a ${typeof value}`;
}

function unreadable(
  path: string,
  expected: string,
  value: unknown,
  context: Readonly<Record<string, unknown>>,
): UnknownGatewayStateError {
  const got = jsonTypeOf(value);
  return new UnknownGatewayStateError(`Stripe sent ${path} as ${got}; pay expects ${expected}.`, {
    context: { ...context, field: path, expected, got },
  });
}
