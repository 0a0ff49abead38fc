import { AUTHENTICATION_REQUIRED } from '../cards.js';
import { docUrl, InvalidRequestError, type JsonObject } from '../errors.js';
import {
  cardOptions,
  type CaptureMethod,
  type PaymentIntentObject,
  type RequestThreeDSecure,
} from '../objects/payment-intent.js';
import type { PaymentIntentRecord, PaymentMethodRecord } from '../store/account.js';
import { newId } from '../wire/ids.js';
import type { ExecContext } from './context.js';
import {
  AUTHENTICATION_FAILED,
  ERROR_ON_REQUIRES_ACTION,
  MISSING_PAYMENT_METHOD,
  RETURN_URL_REQUIRED,
  unexpectedState,
} from './payment-errors.js';
import { failPayment, saveIntent, succeedPayment, type PaymentOutcome } from './payment-intent-charge.js';
import { startProcessing } from './payment-intent-processing.js';
import {
  createPaymentMethod,
  resolvePaymentMethod,
  type PaymentMethodInput,
} from './payment-method-source.js';

/*
 * The PaymentIntent state machine of SANDBOX.md §4.3: confirmation and 3-D Secure up to the charge step
 * (payment-intent-charge.ts), or to `processing` under the fault of that name. Preconditions throw before anything changes; once a flow starts changing state it runs to
 * an outcome — a 402 is an outcome (the declined charge and its events are real), not an exception.
 */

/** Parameters that confirm and create-with-confirm share. `undefined` leaves a field as it is. */
export interface ConfirmInput {
  paymentMethod: string | undefined;
  paymentMethodData: PaymentMethodInput | undefined;
  returnUrl: string | null | undefined;
  offSession: boolean | undefined;
  setupFutureUsage: 'on_session' | 'off_session' | null | undefined;
  captureMethod: CaptureMethod | undefined;
  errorOnRequiresAction: boolean | undefined;
  requestThreeDSecure: RequestThreeDSecure | undefined;
  receiptEmail: string | null | undefined;
  shipping: JsonObject | null | undefined;
}

const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'] as const;

/**
 * Throws the 400s a confirmation can meet before anything changes: wrong status, no payment method, and
 * the `return_url` rule of dynamic payment methods (SANDBOX.md §4.3). Business errors, so they are stored.
 */
export function checkConfirmable(record: PaymentIntentRecord, input: ConfirmInput): void {
  const pi = record.object;
  if (!(CONFIRMABLE as readonly string[]).includes(pi.status)) {
    throw unexpectedState(
      `You cannot confirm this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be confirmed: ${CONFIRMABLE.join(', ')}.`,
      pi,
    );
  }
  if (
    input.paymentMethod === undefined &&
    input.paymentMethodData === undefined &&
    pi.payment_method === null
  ) {
    throw unexpectedState(MISSING_PAYMENT_METHOD, pi);
  }
  const apm = pi.automatic_payment_methods;
  const returnUrl = input.returnUrl === undefined ? record.returnUrl : input.returnUrl;
  if (
    apm?.enabled === true &&
    apm.allow_redirects !== 'never' &&
    input.offSession !== true &&
    returnUrl === null
  ) {
    throw new InvalidRequestError(RETURN_URL_REQUIRED);
  }
}

/** Whether this payment must pass 3-D Secure first (the card table's `threeDSecure`, SANDBOX.md §4.2). */
function needsAuthentication(record: PaymentIntentRecord, pm: PaymentMethodRecord): boolean {
  if (record.authenticated) {
    return false;
  }
  switch (pm.card.threeDSecure) {
    case 'never':
      return false;
    case 'on_request':
      return record.object.payment_method_options.card.request_three_d_secure !== 'automatic';
    case 'always':
      return true;
    case 'unless_set_up':
      return !(record.offSession && pm.setUpForOffSession);
    default: {
      const unknown: never = pm.card.threeDSecure;
      throw new Error(`unknown 3-D Secure behaviour ${String(unknown)}`);
    }
  }
}

function threeDSecureUrl(ctx: ExecContext, pi: PaymentIntentObject): string {
  return `${ctx.core.publicUrl}/_sandbox/3ds/${pi.id}?client_secret=${encodeURIComponent(pi.client_secret)}`;
}

function requireAction(ctx: ExecContext, record: PaymentIntentRecord): PaymentOutcome {
  const url = threeDSecureUrl(ctx, record.object);
  const nextAction: JsonObject =
    record.returnUrl === null
      ? {
          type: 'use_stripe_sdk',
          use_stripe_sdk: { source: newId('src'), stripe_js: url, type: 'three_d_secure_redirect' },
        }
      : { type: 'redirect_to_url', redirect_to_url: { return_url: record.returnUrl, url } };
  const pi: PaymentIntentObject = {
    ...record.object,
    status: 'requires_action',
    next_action: nextAction,
    last_payment_error: null,
  };
  ctx.emit('payment_intent.requires_action', pi);
  return { kind: 'ok', record: saveIntent(ctx, { ...record, object: pi }) };
}

/** Authentication (unless done or not needed), then the charge — or `processing`, when a fault asks. */
function pay(ctx: ExecContext, record: PaymentIntentRecord, pm: PaymentMethodRecord): PaymentOutcome {
  if (needsAuthentication(record, pm)) {
    if (record.offSession) {
      return failPayment(ctx, record, pm, AUTHENTICATION_REQUIRED, true);
    }
    if (record.errorOnRequiresAction) {
      return failPayment(
        ctx,
        record,
        pm,
        { code: 'authentication_required', message: ERROR_ON_REQUIRES_ACTION },
        false,
      );
    }
    return requireAction(ctx, record);
  }
  const processing = ctx.takeProcessingFault();
  if (processing !== undefined) {
    return startProcessing(ctx, record, pm, processing);
  }
  if (pm.card.decline !== undefined) {
    return failPayment(ctx, record, pm, pm.card.decline, true);
  }
  return succeedPayment(ctx, record, pm);
}

/** Confirms: applies the confirmation's parameters, then authentication and the charge. */
export function confirmIntent(
  ctx: ExecContext,
  record: PaymentIntentRecord,
  input: ConfirmInput,
): PaymentOutcome {
  checkConfirmable(record, input);
  const before = record.object;
  let pm: PaymentMethodRecord;
  if (input.paymentMethodData !== undefined) {
    pm = createPaymentMethod(ctx, input.paymentMethodData);
  } else {
    pm = resolvePaymentMethod(ctx, input.paymentMethod ?? before.payment_method ?? '', 'payment_method');
  }
  const owner = pm.object.customer;
  if (owner !== null && owner !== before.customer) {
    throw new InvalidRequestError(
      before.customer === null
        ? `The provided PaymentMethod ${pm.object.id} is attached to customer ${owner}; pass that customer in the customer parameter to use it.`
        : `The provided PaymentMethod ${pm.object.id} belongs to customer ${owner}, not to ${before.customer}.`,
      { param: 'payment_method' },
    );
  }
  const pi: PaymentIntentObject = {
    ...before,
    payment_method: pm.object.id,
    capture_method: input.captureMethod ?? before.capture_method,
    setup_future_usage:
      input.setupFutureUsage === undefined ? before.setup_future_usage : input.setupFutureUsage,
    receipt_email: input.receiptEmail === undefined ? before.receipt_email : input.receiptEmail,
    shipping: input.shipping === undefined ? before.shipping : input.shipping,
    payment_method_options:
      input.requestThreeDSecure === undefined
        ? before.payment_method_options
        : cardOptions(input.requestThreeDSecure),
    last_payment_error: null,
  };
  const next: PaymentIntentRecord = {
    object: pi,
    returnUrl: input.returnUrl === undefined ? record.returnUrl : input.returnUrl,
    offSession: input.offSession ?? false,
    errorOnRequiresAction: input.errorOnRequiresAction ?? record.errorOnRequiresAction,
    // A new payment method has not been authenticated.
    authenticated: record.authenticated && before.payment_method === pm.object.id,
    // Only confirmable statuses get here, and none of them is processing.
    settlement: null,
  };
  return pay(ctx, saveIntent(ctx, next), pm);
}

/** Completes or fails the 3-D Secure challenge of an intent in `requires_action` (SANDBOX.md §6.3). */
export function authenticateIntent(
  ctx: ExecContext,
  record: PaymentIntentRecord,
  outcome: 'succeed' | 'fail',
): PaymentOutcome {
  const pi = record.object;
  if (pi.status !== 'requires_action') {
    throw unexpectedState(
      `This PaymentIntent is not awaiting 3-D Secure authentication: it has a status of ${pi.status}.`,
      pi,
    );
  }
  const pm = ctx.account.paymentMethods.get(pi.payment_method ?? '');
  if (pm === undefined) {
    throw new Error(`payment intent ${pi.id} in requires_action without a payment method`);
  }
  if (outcome === 'fail') {
    const failed: PaymentIntentObject = {
      ...pi,
      status: 'requires_payment_method',
      payment_method: null,
      next_action: null,
      last_payment_error: {
        code: 'payment_intent_authentication_failure',
        doc_url: docUrl('payment_intent_authentication_failure'),
        message: AUTHENTICATION_FAILED,
        payment_method: pm.object,
        type: 'invalid_request_error',
      },
    };
    ctx.emit('payment_intent.payment_failed', failed);
    return { kind: 'ok', record: saveIntent(ctx, { ...record, object: failed, authenticated: false }) };
  }
  const authenticated: PaymentIntentRecord = { ...record, authenticated: true };
  if (pi.confirmation_method === 'manual') {
    const waiting: PaymentIntentObject = { ...pi, status: 'requires_confirmation', next_action: null };
    return { kind: 'ok', record: saveIntent(ctx, { ...authenticated, object: waiting }) };
  }
  return pay(ctx, authenticated, pm);
}
