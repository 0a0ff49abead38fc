import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCli, USAGE, UsageError } from './cli-flags.js';
import { SandboxOptionsError } from './options.js';
import { startSandbox } from './start.js';

/** Where the CLI writes; tests replace it. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const PROCESS_OUTPUT: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/**
 * `pay-stripe-sandbox`: parses flags, starts the sandbox, prints its URL (the first stdout line is always
 * `pay-stripe-sandbox listening on <url>`), and stops cleanly on SIGINT/SIGTERM. Bad flags exit 2; a
 * port that cannot be bound exits 1.
 */
export async function main(
  argv: readonly string[] = process.argv.slice(2),
  output: CliOutput = PROCESS_OUTPUT,
): Promise<void> {
  let config;
  try {
    config = parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`pay-stripe-sandbox: ${error.message}`);
      output.err('Run pay-stripe-sandbox --help for usage.');
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  if (config.help) {
    output.out(USAGE);
    return;
  }
  if (config.version) {
    output.out(packageVersion());
    return;
  }
  let sandbox;
  try {
    sandbox = await startSandbox(config.options);
  } catch (error) {
    if (error instanceof SandboxOptionsError) {
      output.err(`pay-stripe-sandbox: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    const code = (error as NodeJS.ErrnoException).code;
    output.err(
      `pay-stripe-sandbox: cannot listen on ${config.options.host ?? '127.0.0.1'}:${config.options.port ?? 0}: ${code ?? String(error)}`,
    );
    process.exitCode = 1;
    return;
  }
  output.out(`pay-stripe-sandbox listening on ${sandbox.url}`);
  const keys = config.options.apiKeys;
  output.out(
    keys === undefined
      ? '  API keys: any sk_test_… key (each key is its own account)'
      : `  API keys: ${keys.length} configured (${keys.map((k) => sandbox.accountIdForKey(k)).join(', ')})`,
  );
  output.out(`  clock: ${sandbox.clock.kind}; control plane: ${sandbox.url}/_sandbox/`);
  const stop = (): void => {
    sandbox.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        output.err(`pay-stripe-sandbox: error while stopping: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
