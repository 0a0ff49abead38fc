import os from 'node:os';
import { Command, Errors } from '@oclif/core';
import {
  DependencyUnavailableError,
  isPayError,
  type AccountService,
  type Actor,
  type PlanService,
} from '@pay/core';
import { createPay, loadConfig, type Pay, type PayConfig } from '@pay/runtime';
import { EXIT_ERROR } from './exit-codes.js';
import { describeFailure } from './failure.js';
import { colorEnabled, red } from './style.js';

/** Exit status of a command that failed with a PayError: the code is printed, the status is stable. */
export const PAY_ERROR_EXIT = EXIT_ERROR;

/**
 * Every pay command: builds the same wiring as the API (`createPay`, R3) in `init`, closes it in
 * `finally`, and turns any failure into one line `Error: <message> (<code>)` on stderr (with --json, one
 * `{"error": …}` document on stdout) and its exit status (see exit-codes.ts), never a stack trace.
 */
export abstract class BaseCommand<T> extends Command {
  static override enableJsonFlag = true;

  private payInstance: Pay | undefined;

  /** The wiring, built lazily so that commands which need no database (help) open none. */
  protected async pay(overrides: Partial<Pick<PayConfig, 'migrate'>> = {}): Promise<Pay> {
    if (this.payInstance === undefined) {
      const config = { ...loadConfig(), ...overrides };
      try {
        this.payInstance = await createPay(config, { role: 'cli' });
      } catch (error) {
        // A bad variable is already a PayError; a database that does not answer is a driver's error,
        // said here in pay's terms so the operator knows which setting to look at.
        if (isPayError(error)) {
          throw error;
        }
        const where = config.databaseUrl === undefined ? `the data folder ${config.dataDir}` : 'DATABASE_URL';
        const reason = error instanceof Error ? error.message : String(error);
        throw new DependencyUnavailableError(`Cannot open pay's database (${where}): ${reason}`, {
          cause: error,
        });
      }
    }
    return this.payInstance;
  }

  protected async accounts(): Promise<AccountService> {
    return (await this.pay()).services.accounts;
  }

  protected async plans(): Promise<PlanService> {
    return (await this.pay()).services.plans;
  }

  /** The operator recorded in the audit log: PAY_OPERATOR, else the OS user. */
  protected operator(): Actor {
    return { type: 'cli_operator', id: process.env.PAY_OPERATOR ?? os.userInfo().username };
  }

  protected override catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof Errors.ExitError) {
      // `this.exit(n)`: the command already said what happened.
      return Promise.reject(err);
    }
    const failure = describeFailure(err);
    if (this.jsonEnabled()) {
      const { message, code, param } = failure;
      this.logJson({ error: { code, message, ...(param === undefined ? {} : { param }) } });
    } else {
      process.stderr.write(
        `${red('Error:', colorEnabled(process.stderr))} ${failure.message} (${failure.code})\n`,
      );
    }
    // Printed above: oclif only exits with the status. The message and code stay on the error for tests
    // that run commands in-process.
    const quiet: Errors.CLIError = new Errors.CLIError(`${failure.message} (${failure.code})`, {
      exit: failure.exit,
      code: failure.code,
    });
    quiet.skipOclifErrorHandling = true;
    return Promise.reject(quiet);
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    await this.payInstance?.close();
    this.payInstance = undefined;
    return super.finally(err);
  }

  abstract override run(): Promise<T>;
}
