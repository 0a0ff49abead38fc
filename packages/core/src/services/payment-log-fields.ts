import { isPayError } from '../errors.js';

/** An error for the log: its class, code and message, never a stack with request data. */
export function logFieldsOf(error: unknown): Record<string, unknown> {
  if (isPayError(error)) {
    return { name: error.name, code: error.code, message: error.message };
  }
  if (error instanceof Error) {
    return { name: error.name, message: error.message };
  }
  return { message: String(error) };
}
