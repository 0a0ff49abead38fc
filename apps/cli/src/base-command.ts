import os from 'node:os';
import { Command, Errors } from '@oclif/core';
import { isPayError, type AccountService, type Actor, type PlanService } from '@pay/core';
import { createPay, loadConfig, type Pay, type PayConfig } from '@pay/runtime';

/** Exit status of a command that failed with a PayError: the code is printed, the status is stable. */
export const PAY_ERROR_EXIT = 2;

/**
 * Every pay command: builds the same wiring as the API (`createPay`, R3) in `init`, closes it in
 * `finally`, and turns a PayError into a one-line message with its code and a non-zero exit.
 */
export abstract class BaseCommand<T> extends Command {
  static override enableJsonFlag = true;

  private payInstance: Pay | undefined;

  /** The wiring, built lazily so that commands which need no database (help) open none. */
  protected async pay(overrides: Partial<Pick<PayConfig, 'migrate'>> = {}): Promise<Pay> {
    this.payInstance ??= await createPay({ ...loadConfig(), ...overrides }, { role: 'cli' });
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

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (isPayError(err)) {
      // oclif prints the message and exits; `code` makes scripts able to branch on the failure.
      const error: Errors.CLIError & { exitCode?: number } = new Errors.CLIError(
        `${err.message} (${err.code})`,
        {
          exit: PAY_ERROR_EXIT,
          code: err.code,
        },
      );
      // With --json oclif prints the error as JSON and exits with `exitCode` rather than `oclif.exit`.
      error.exitCode = PAY_ERROR_EXIT;
      return super.catch(error);
    }
    return super.catch(err);
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    await this.payInstance?.close();
    this.payInstance = undefined;
    return super.finally(err);
  }

  abstract override run(): Promise<T>;
}
