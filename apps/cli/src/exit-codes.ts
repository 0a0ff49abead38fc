/**
 * The exit statuses of every pay command, so scripts can trust them. People read them in `pay --help`
 * (the `oclif.description` of package.json); the commands that can "run and find problems" say which in
 * their own help.
 */

/** The command did what it was asked. */
export const EXIT_OK = 0;

/**
 * The command ran, and found problems it reports: drift left by `reconcile`, objects `recover` could not
 * finish, a refund the operator declined or Stripe failed, `--json` without `--yes` on `process-refund`.
 */
export const EXIT_PROBLEMS = 1;

/** The command could not run: bad usage (flags, arguments), a pay error, or a dependency that failed. */
export const EXIT_ERROR = 2;
