/**
 * True when `err` is PostgreSQL's unique_violation (SQLSTATE 23505), on either driver. Drizzle wraps
 * driver errors in a DrizzleQueryError whose `cause` is the driver's error, so both are checked.
 *
 * Inside a transaction PostgreSQL aborts the whole transaction on the violation: catch it outside
 * `store.transaction()` and run the unit of work again (it will then find the row that won).
 */
export function isUniqueViolation(err: unknown): boolean {
  return sqlStateOf(err) === '23505';
}

/** The SQLSTATE of a database error, looking through drizzle's wrapping; undefined for other errors. */
export function sqlStateOf(err: unknown): string | undefined {
  for (let current: unknown = err, depth = 0; depth < 5 && isObject(current); depth++) {
    if (typeof current.code === 'string' && /^[0-9A-Z]{5}$/.test(current.code)) {
      return current.code;
    }
    current = current.cause;
  }
  return undefined;
}

function isObject(value: unknown): value is { code?: unknown; cause?: unknown } {
  return typeof value === 'object' && value !== null;
}
