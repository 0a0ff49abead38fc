import { randomUUID } from 'node:crypto';
import readline from 'node:readline';
import { Args, Flags } from '@oclif/core';
import {
  parseId,
  ValidationError,
  type AccountId,
  type Actor,
  type CreateRefundInput,
  type Refund,
  type RefundAttempt,
} from '@pay/core';
import { refundJson, type RefundJson } from '@pay/runtime';
import { BaseCommand } from '../base-command.js';
import { EXIT_PROBLEMS } from '../exit-codes.js';
import { accountFlag } from '../flags.js';

/** The `--json` shape: the HTTP API's refund body, with its account and the run's request id. */
export interface RefundView extends RefundJson {
  account_id: string;
  /** The idempotency key it ran under: the same `--request-id` again answers this refund again. */
  request_id: string;
  /** True when this run answered a refund an earlier run with the same request id made. */
  replayed: boolean;
}

/** The CLI operator, with the request id every audit row and event row of this run carries. */
type OperatorActor = Actor & { readonly requestId: string };

/** Exit status of a refund the operator declined, or refused to run without asking (`--json` without `--yes`). */
export const REFUND_DECLINED_EXIT = EXIT_PROBLEMS;

/** What the idempotency keys of this command are bound to; an HTTP request under the same key is a reuse. */
const CREATE_PATH = 'pay process-refund';
const APPROVE_PATH = 'pay process-refund --approve';

// The shape an HTTP Idempotency-Key may have too: printable ASCII without spaces, Stripe's length limit.
const REQUEST_ID = /^[\x21-\x7e]{8,255}$/;

function toRefundView(refund: Refund, requestId: string, replayed: boolean): RefundView {
  const { id, object, ...rest } = refundJson(refund);
  return { id, object, account_id: refund.accountId, ...rest, request_id: requestId, replayed };
}

/**
 * Asks a yes/no question on stdin; only `y` or `yes` agrees. End of input before an answer is a no, so a
 * script that forgot `--yes` refunds nothing.
 */
function confirm(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    process.stdout.write(`${question} [y/N] `);
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(/^y(es)?$/i.test(line.trim()));
    });
    rl.once('close', () => {
      if (!answered) {
        process.stdout.write('\n');
        resolve(false);
      }
    });
  });
}

export default class ProcessRefund extends BaseCommand<RefundView> {
  static override description =
    'Refund a payment, in part (--amount, minor units) or all that remains, as the CLI operator ' +
    '(PAY_OPERATOR, else the OS user): shows what it is about to do and asks for confirmation unless ' +
    '--yes. Above PAY_REFUND_APPROVAL_THRESHOLD the refund waits for a second operator: ' +
    '`pay process-refund --approve <refund-id>`. Every run has a request id (--request-id, else a new one ' +
    'it prints): re-running with the same id is safe and answers the same refund. Exits 1 when the ' +
    'operator declines (or --json is given without --yes), 2 with the error code when pay refuses.';

  static override examples = [
    '<%= config.bin %> process-refund pay_… --amount 500 --reason requested_by_customer',
    '<%= config.bin %> process-refund pay_… --yes --json',
    '<%= config.bin %> process-refund --approve rfnd_…',
  ];

  static override args = {
    payment: Args.string({
      required: false,
      description: 'The payment to refund (pay_…)',
      // stdin carries the answer to the confirmation (`echo y | pay process-refund --approve …`), never an id.
      ignoreStdin: true,
    }),
  };

  static override flags = {
    amount: Flags.integer({ min: 1, description: 'Minor units to refund (default: all that remains)' }),
    reason: Flags.string({
      description: 'Why, for the audit log (duplicate, fraudulent, requested_by_customer go to Stripe too)',
    }),
    account: accountFlag({
      required: false,
      description: 'Account id (acc_…); found from the payment or refund when left out',
    }),
    approve: Flags.string({
      description: 'Approve this refund (rfnd_…), waiting for a second operator, instead of making one',
      exclusive: ['amount', 'reason'],
    }),
    yes: Flags.boolean({ char: 'y', description: 'Do not ask for confirmation' }),
    'request-id': Flags.string({
      description: 'The idempotency key of this refund: give the one a failed run printed to retry it safely',
    }),
  };

  async run(): Promise<RefundView> {
    const { args, flags } = await this.parse(ProcessRefund);
    if ((args.payment === undefined) === (flags.approve === undefined)) {
      throw new ValidationError(
        'Name the payment to refund (pay_…), or pass --approve <refund-id>, not both.',
      );
    }
    if (this.jsonEnabled() && flags.yes !== true) {
      // A machine cannot answer the question, and moving money unasked is not a default.
      this.error('--json never asks for confirmation: add --yes to refund without asking.', {
        exit: REFUND_DECLINED_EXIT,
        code: 'confirmation_required',
      });
    }
    const requestId = flags['request-id'] ?? `req_${randomUUID()}`;
    if (!REQUEST_ID.test(requestId)) {
      throw new ValidationError('--request-id must be 8 to 255 printable ASCII characters without spaces.', {
        param: 'request-id',
      });
    }
    const actor: OperatorActor = { ...this.operator(), requestId };
    const attempt =
      flags.approve === undefined
        ? await this.refund(args.payment ?? '', flags, actor, flags.yes === true)
        : await this.approve(flags.approve, flags.account, actor, flags.yes === true);
    if (attempt === null) {
      this.log('Nothing refunded.');
      this.exit(REFUND_DECLINED_EXIT);
    }
    this.describe(attempt);
    return toRefundView(attempt.refund, requestId, attempt.replayed);
  }

  private async refund(
    paymentId: string,
    flags: { amount?: number | undefined; reason?: string | undefined; account?: AccountId | undefined },
    actor: OperatorActor,
    yes: boolean,
  ): Promise<RefundAttempt | null> {
    const { refunds, operatorLookup } = (await this.pay()).services;
    const accountId = flags.account ?? (await operatorLookup.accountOfPayment(paymentId));
    const input: CreateRefundInput = {
      accountId,
      paymentId,
      ...(flags.amount === undefined ? {} : { amount: flags.amount }),
      ...(flags.reason === undefined ? {} : { reason: flags.reason }),
    };
    // The preview applies the service's own checks, so a refund that cannot happen fails before the question.
    const preview = await refunds.preview(input);
    const { payment } = preview;
    this.log(
      `Refund ${preview.amount} ${payment.currency} of payment ${payment.id} (account ${accountId}): ` +
        `captured ${payment.amount}, refunded ${payment.amountRefunded}, ${preview.remaining} may still be refunded.`,
    );
    if (preview.requiresApproval) {
      this.log('Above the approval threshold: it will wait for a second operator to approve it.');
    }
    this.log(`Request id ${actor.requestId}: re-run with --request-id ${actor.requestId} to retry safely.`);
    if (!yes && !(await confirm('Refund?'))) {
      return null;
    }
    return refunds.create(input, actor, {
      accountId,
      key: actor.requestId,
      method: 'POST',
      path: CREATE_PATH,
      params: { payment_id: paymentId, amount: flags.amount, reason: flags.reason },
      requestId: actor.requestId,
    });
  }

  private async approve(
    refundIdArg: string,
    account: AccountId | undefined,
    actor: OperatorActor,
    yes: boolean,
  ): Promise<RefundAttempt | null> {
    const refundId = parseId('refund', refundIdArg, 'approve');
    const { refunds, operatorLookup } = (await this.pay()).services;
    const accountId = account ?? (await operatorLookup.accountOfRefund(refundId));
    const refund = await refunds.get(accountId, refundId);
    this.log(
      `Approve refund ${refund.id} of ${refund.amount} ${refund.currency} of payment ${refund.paymentId} ` +
        `(account ${accountId}), asked for by ${refund.requestedBy ?? 'unknown'}` +
        `${refund.reason === null ? '' : ` because "${refund.reason}"`}; it is ${refund.status}.`,
    );
    this.log(`Request id ${actor.requestId}: re-run with --request-id ${actor.requestId} to retry safely.`);
    if (!yes && !(await confirm('Approve and send to Stripe?'))) {
      return null;
    }
    return refunds.approve({ accountId, refundId }, actor, {
      accountId,
      key: actor.requestId,
      method: 'POST',
      path: APPROVE_PATH,
      params: { refund_id: refundId },
      requestId: actor.requestId,
    });
  }

  private describe({ refund, payment, replayed }: RefundAttempt): void {
    const again = replayed ? ' (already done by an earlier run with this request id)' : '';
    const what = `Refund ${refund.id} of ${refund.amount} ${refund.currency}`;
    switch (refund.status) {
      case 'requires_approval':
        this.log(`${what} waits for a second operator${again}: pay process-refund --approve ${refund.id}`);
        return;
      case 'failed':
      case 'canceled':
        this.log(`${what} ${refund.status}${again}: ${refund.failureReason ?? 'Stripe gave no reason'}.`);
        // Not this.exit(): that throws, and --json would then print an error instead of the refund.
        process.exitCode = REFUND_DECLINED_EXIT;
        return;
      case 'pending':
      case 'succeeded':
        this.log(
          `${what} ${refund.status}${again}. Payment ${payment.id} is ${payment.status}, ` +
            `${payment.amountRefunded} of ${payment.amount} refunded.`,
        );
        return;
    }
  }
}
