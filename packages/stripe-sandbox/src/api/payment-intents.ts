import { InvalidRequestError, resourceMissing, type JsonObject } from '../errors.js';
import { cardOptions, newPaymentIntent, type PaymentIntentObject } from '../objects/payment-intent.js';
import type { PaymentIntentRecord } from '../store/account.js';
import { listObject, PAGE_PARAMS, parsePage, parseRange } from '../store/list.js';
import { applyMetadata, EMPTY_METADATA } from '../wire/params.js';
import type { ExecContext } from './context.js';
import { liveCustomer } from './customers.js';
import { unexpectedState } from './payment-errors.js';
import { cancelIntent, captureIntent } from './payment-intent-capture.js';
import { saveIntent, type PaymentOutcome } from './payment-intent-charge.js';
import { checkConfirmable, confirmIntent } from './payment-intent-flow.js';
import {
  ALWAYS_UPDATABLE,
  checkAmount,
  CONFIRM_PARAMS,
  CREATE_PARAMS,
  parseConfirmInput,
  parseCurrency,
  parseMethodTypes,
  parseRequestThreeDSecure,
  UPDATABLE_STATUSES,
  UPDATE_PARAMS,
} from './payment-intent-params.js';
import { resolvePaymentMethod } from './payment-method-source.js';
import type { ApiResult, RouteSpec } from './router.js';

/** A card error is an outcome whose state is committed; answering it is throwing it (the 402 is stored). */
function answer(outcome: PaymentOutcome): ApiResult {
  if (outcome.kind === 'card_error') {
    throw outcome.error;
  }
  return { body: outcome.record.object as unknown as JsonObject };
}

export function findIntent(ctx: ExecContext, id: string): PaymentIntentRecord {
  const record = ctx.account.paymentIntents.get(id);
  if (record === undefined) {
    throw resourceMissing('payment_intent', id, 'intent');
  }
  return record;
}

const create: RouteSpec = {
  method: 'POST',
  pattern: '/v1/payment_intents',
  params: CREATE_PARAMS,
  result: 'payment_intent',
  handle(p, _path, settings) {
    const amount = p.requiredInteger('amount', { min: 0 });
    const currency = parseCurrency(p);
    if (currency === undefined) {
      throw new InvalidRequestError('Missing required param: currency.', {
        code: 'parameter_missing',
        param: 'currency',
      });
    }
    checkAmount(amount, currency);
    const confirm = p.boolean('confirm') ?? false;
    const input = parseConfirmInput(p, settings);
    for (const [param, given] of [
      ['off_session', input.offSession !== undefined],
      ['return_url', input.returnUrl !== undefined && input.returnUrl !== null],
      ['error_on_requires_action', input.errorOnRequiresAction !== undefined],
    ] as const) {
      if (given && !confirm) {
        throw new InvalidRequestError(`You can only pass \`${param}\` when \`confirm\` is \`true\`.`, {
          param,
        });
      }
    }
    if (!confirm && input.paymentMethodData !== undefined) {
      throw new InvalidRequestError('`payment_method_data` can only be used with `confirm=true`.', {
        param: 'payment_method_data',
      });
    }
    const { types, allowRedirects } = parseMethodTypes(p);
    if (input.errorOnRequiresAction === true && types === null) {
      throw new InvalidRequestError(
        '`error_on_requires_action` cannot be used with dynamic payment methods; pass `allowed_payment_method_types[]=card`.',
        { param: 'error_on_requires_action' },
      );
    }
    const customer = p.string('customer') ?? null;
    const fields = {
      amount,
      currency,
      customer,
      description: p.string('description') ?? null,
      metadata: applyMetadata(EMPTY_METADATA, p.metadata()),
      captureMethod: input.captureMethod ?? 'automatic_async',
      confirmationMethod: p.enumeration('confirmation_method', ['automatic', 'manual']) ?? 'automatic',
      paymentMethodTypes: types,
      allowRedirects,
      requestThreeDSecure: input.requestThreeDSecure ?? 'automatic',
      receiptEmail: input.receiptEmail ?? null,
      setupFutureUsage: input.setupFutureUsage ?? null,
      shipping: input.shipping ?? null,
      statementDescriptor: p.string('statement_descriptor') ?? null,
      statementDescriptorSuffix: p.string('statement_descriptor_suffix') ?? null,
      transferGroup: p.string('transfer_group') ?? null,
      applicationFeeAmount: p.integer('application_fee_amount', { min: 0 }) ?? null,
    } as const;
    return (ctx) => {
      if (customer !== null) {
        liveCustomer(ctx.account, customer, 'customer');
      }
      let record: PaymentIntentRecord = {
        object: newPaymentIntent({ ...fields, created: ctx.now }),
        returnUrl: null,
        offSession: false,
        errorOnRequiresAction: false,
        authenticated: false,
        settlement: null,
      };
      // A create that cannot be confirmed creates nothing.
      if (confirm) {
        checkConfirmable(record, input);
      }
      ctx.account.paymentIntents.insert(record.object.id, record);
      ctx.created('payment_intent', record.object.id);
      if (input.paymentMethod !== undefined && input.paymentMethodData === undefined) {
        const pm = resolvePaymentMethod(ctx, input.paymentMethod, 'payment_method');
        record = saveIntent(ctx, {
          ...record,
          object: { ...record.object, payment_method: pm.object.id, status: 'requires_confirmation' },
        });
      }
      ctx.emit('payment_intent.created', record.object);
      if (!confirm) {
        return { body: record.object as unknown as JsonObject };
      }
      return answer(confirmIntent(ctx, record, { ...input, paymentMethod: undefined }));
    };
  },
};

const retrieve: RouteSpec = {
  method: 'GET',
  pattern: '/v1/payment_intents/:intent',
  params: ['client_secret'],
  result: 'payment_intent',
  handle(p, path) {
    const clientSecret = p.string('client_secret') ?? undefined;
    return (ctx) => {
      const record = findIntent(ctx, path.intent ?? '');
      if (clientSecret !== undefined && clientSecret !== record.object.client_secret) {
        throw new InvalidRequestError(
          'The client_secret provided does not match the client_secret associated with the PaymentIntent.',
          { param: 'client_secret' },
        );
      }
      return { body: record.object as unknown as JsonObject };
    };
  },
};

const update: RouteSpec = {
  method: 'POST',
  pattern: '/v1/payment_intents/:intent',
  params: UPDATE_PARAMS,
  result: 'payment_intent',
  lock: 'intent',
  handle(p, path) {
    const given = UPDATE_PARAMS.filter((k) => p.has(k));
    const amount = p.integer('amount', { min: 0 });
    const currency = parseCurrency(p);
    const customer = p.string('customer');
    const paymentMethod = p.string('payment_method') ?? undefined;
    const metadata = p.metadata();
    const requestThreeDSecure = parseRequestThreeDSecure(p);
    const changes = {
      ...(p.has('description') ? { description: p.string('description') ?? null } : {}),
      ...(p.has('receipt_email') ? { receipt_email: p.string('receipt_email') ?? null } : {}),
      ...(p.has('shipping') ? { shipping: p.json('shipping') ?? null } : {}),
      ...(p.has('setup_future_usage')
        ? { setup_future_usage: p.enumeration('setup_future_usage', ['on_session', 'off_session']) ?? null }
        : {}),
      ...(p.has('capture_method')
        ? {
            capture_method:
              p.enumeration('capture_method', ['automatic', 'automatic_async', 'manual']) ??
              'automatic_async',
          }
        : {}),
      ...(p.has('statement_descriptor')
        ? { statement_descriptor: p.string('statement_descriptor') ?? null }
        : {}),
      ...(p.has('statement_descriptor_suffix')
        ? { statement_descriptor_suffix: p.string('statement_descriptor_suffix') ?? null }
        : {}),
      ...(p.has('transfer_group') ? { transfer_group: p.string('transfer_group') ?? null } : {}),
    };
    return (ctx) => {
      const record = findIntent(ctx, path.intent ?? '');
      const before = record.object;
      const restricted = given.find((k) => !ALWAYS_UPDATABLE.includes(k));
      if (restricted !== undefined && !UPDATABLE_STATUSES.includes(before.status)) {
        throw unexpectedState(
          `This PaymentIntent's ${restricted} could not be updated because it has a status of ${before.status}. You may only update the ${restricted} of a PaymentIntent with one of the following statuses: ${UPDATABLE_STATUSES.join(', ')}.`,
          before,
        );
      }
      const nextCurrency = currency ?? before.currency;
      if (amount !== undefined || currency !== undefined) {
        checkAmount(amount ?? before.amount, nextCurrency);
      }
      if (customer !== undefined && customer !== null) {
        liveCustomer(ctx.account, customer, 'customer');
      }
      let after: PaymentIntentObject = {
        ...before,
        ...changes,
        amount: amount ?? before.amount,
        currency: nextCurrency,
        customer: customer === undefined ? before.customer : customer,
        metadata: applyMetadata(before.metadata, metadata),
        payment_method_options:
          requestThreeDSecure === undefined
            ? before.payment_method_options
            : cardOptions(requestThreeDSecure),
      };
      let authenticated = record.authenticated;
      if (paymentMethod !== undefined) {
        const pm = resolvePaymentMethod(ctx, paymentMethod, 'payment_method');
        // A new payment method needs a new confirmation (and a new authentication).
        after = {
          ...after,
          payment_method: pm.object.id,
          status: 'requires_confirmation',
          next_action: null,
        };
        authenticated = false;
      }
      // There is no payment_intent.updated event type (SANDBOX.md §4.7).
      saveIntent(ctx, { ...record, object: after, authenticated });
      return { body: after as unknown as JsonObject };
    };
  },
};

const confirm: RouteSpec = {
  method: 'POST',
  pattern: '/v1/payment_intents/:intent/confirm',
  params: CONFIRM_PARAMS,
  result: 'payment_intent',
  lock: 'intent',
  handle(p, path, settings) {
    const input = parseConfirmInput(p, settings);
    const clientSecret = p.string('client_secret') ?? undefined;
    return (ctx) => {
      const record = findIntent(ctx, path.intent ?? '');
      if (clientSecret !== undefined && clientSecret !== record.object.client_secret) {
        throw new InvalidRequestError(
          'The client_secret provided does not match the client_secret associated with the PaymentIntent.',
          { param: 'client_secret' },
        );
      }
      return answer(confirmIntent(ctx, record, input));
    };
  },
};

const cancel: RouteSpec = {
  method: 'POST',
  pattern: '/v1/payment_intents/:intent/cancel',
  params: ['cancellation_reason'],
  result: 'payment_intent',
  lock: 'intent',
  handle(p, path) {
    const reason =
      p.enumeration('cancellation_reason', [
        'duplicate',
        'fraudulent',
        'requested_by_customer',
        'abandoned',
      ]) ?? null;
    return (ctx) => ({
      body: cancelIntent(ctx, findIntent(ctx, path.intent ?? ''), reason).object as unknown as JsonObject,
    });
  },
};

const capture: RouteSpec = {
  method: 'POST',
  pattern: '/v1/payment_intents/:intent/capture',
  params: [
    'amount_details',
    'amount_to_capture',
    'application_fee_amount',
    'final_capture',
    'hooks',
    'metadata',
    'payment_details',
    'statement_descriptor',
    'statement_descriptor_suffix',
    'transfer_data',
  ],
  result: 'payment_intent',
  lock: 'intent',
  handle(p, path) {
    const amountToCapture = p.integer('amount_to_capture', { min: 1 });
    const metadata = p.metadata();
    return (ctx) => {
      const record = findIntent(ctx, path.intent ?? '');
      const captured = captureIntent(ctx, record, amountToCapture);
      if (metadata === undefined) {
        return { body: captured.object as unknown as JsonObject };
      }
      const object = { ...captured.object, metadata: applyMetadata(captured.object.metadata, metadata) };
      saveIntent(ctx, { ...captured, object });
      return { body: object };
    };
  },
};

const list: RouteSpec = {
  method: 'GET',
  pattern: '/v1/payment_intents',
  params: [...PAGE_PARAMS, 'customer', 'customer_account', 'created'],
  result: 'list:payment_intent',
  handle(p) {
    const page = parsePage(p);
    const customer = p.string('customer') ?? undefined;
    const created = parseRange(p, 'created');
    return (ctx) => {
      const result = ctx.account.paymentIntents.page(
        page,
        (r) =>
          (customer === undefined || r.object.customer === customer) &&
          (created === undefined || created(r.object.created)),
      );
      return { body: listObject('/v1/payment_intents', result, (r) => r.object) };
    };
  },
};

export const paymentIntentRoutes: readonly RouteSpec[] = [
  create,
  retrieve,
  update,
  confirm,
  cancel,
  capture,
  list,
];
