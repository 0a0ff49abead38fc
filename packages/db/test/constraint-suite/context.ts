import type { Repositories } from '@pay/core';
import type { Db } from '../../src/store.js';
import { databaseErrorOf, type Seed } from '../support/fixtures.js';

export const UNIQUE = '23505';
export const CHECK = '23514';
export const FOREIGN_KEY = '23503';

/** The suite's database and this test's seed (an account with a customer, card and plan). */
export interface ConstraintContext {
  current(): { db: Db; seed: Seed };
  repos(): Repositories;
}

/** A value the TypeScript types forbid, for proving that the database forbids it too. */
export function unchecked<T>(value: unknown): T {
  return value as T;
}

/** Asserts that `write` is rejected with SQLSTATE `code` by the constraint named `constraint`. */
export async function expectViolation(
  write: Promise<unknown>,
  code: string,
  constraint: string,
): Promise<void> {
  const err: unknown = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) {
    throw new Error(`Expected ${constraint} (${code}) to reject the write, and it was accepted.`);
  }
  expect(databaseErrorOf(err)).toEqual({ code, constraint });
}
