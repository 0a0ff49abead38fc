import type { Repositories } from '@pay/core';
import type { Database } from '../../src/index.js';

/** Lazy access to the suite's database: it opens in beforeAll, after the tests are declared. */
export interface SuiteContext {
  db(): Database;
  repos(): Repositories;
}
