import { CardError, InvalidRequestError, resourceMissing, type JsonObject } from '../errors.js';
import { previousAttributes } from '../objects/event.js';
import type { PaymentMethodObject } from '../objects/payment-method.js';
import type { PaymentMethodRecord } from '../store/account.js';
import { listObject, PAGE_PARAMS, parsePage } from '../store/list.js';
import { applyMetadata } from '../wire/params.js';
import type { ExecContext } from './context.js';
import { liveCustomer } from './customers.js';
import {
  createPaymentMethod,
  parseBillingDetails,
  parsePaymentMethodInput,
  PAYMENT_METHOD_DATA_PARAMS,
  resolvePaymentMethod,
} from './payment-method-source.js';
import type { RouteSpec } from './router.js';

/**
 * Attaches a PaymentMethod to a customer and returns the new record; the caller emits
 * `payment_method.attached` (its place in the event order depends on the flow). Attaching to the same
 * customer again changes nothing.
 */
export function attachPaymentMethod(
  ctx: ExecContext,
  record: PaymentMethodRecord,
  customerId: string,
): PaymentMethodRecord {
  liveCustomer(ctx.account, customerId, 'customer');
  const current = record.object.customer;
  if (current === customerId) {
    return record;
  }
  if (current !== null) {
    throw new InvalidRequestError(
      'The payment method you provided has already been attached to a customer.',
      {
        param: 'payment_method',
      },
    );
  }
  const next: PaymentMethodRecord = { ...record, object: { ...record.object, customer: customerId } };
  ctx.account.paymentMethods.replace(next.object.id, next);
  return next;
}

const create: RouteSpec = {
  method: 'POST',
  pattern: '/v1/payment_methods',
  params: [...PAYMENT_METHOD_DATA_PARAMS, 'customer', 'payment_method', 'radar_options'],
  result: 'payment_method',
  handle(p, _path, settings) {
    if (p.has('customer') || p.has('payment_method')) {
      throw new InvalidRequestError('The sandbox does not support cloning PaymentMethods (Connect).', {
        param: p.has('customer') ? 'customer' : 'payment_method',
      });
    }
    const input = parsePaymentMethodInput(p, settings.rawCardData);
    return (ctx) => ({ body: createPaymentMethod(ctx, input).object as unknown as JsonObject });
  },
};

const retrieve: RouteSpec = {
  method: 'GET',
  pattern: '/v1/payment_methods/:payment_method',
  params: [],
  result: 'payment_method',
  handle(_p, path) {
    // A GET on a test alias materialises a PaymentMethod, as Stripe does (SANDBOX.md §4.2).
    return (ctx) => ({
      body: resolvePaymentMethod(ctx, path.payment_method ?? '', 'payment_method')
        .object as unknown as JsonObject,
    });
  },
};

const update: RouteSpec = {
  method: 'POST',
  pattern: '/v1/payment_methods/:payment_method',
  params: ['allow_redisplay', 'billing_details', 'card', 'metadata', 'us_bank_account'],
  result: 'payment_method',
  lock: 'payment_method',
  handle(p, path) {
    const billingDetails = parseBillingDetails(p);
    const metadata = p.metadata();
    const allowRedisplay =
      p.enumeration('allow_redisplay', ['always', 'limited', 'unspecified']) ?? undefined;
    const card = p.hash('card', ['exp_month', 'exp_year', 'networks']);
    const expMonth = card?.integer('exp_month', { min: 1, max: 12 });
    const expYear = card?.integer('exp_year');
    return (ctx) => {
      const record = ctx.account.paymentMethods.get(path.payment_method ?? '');
      if (record === undefined) {
        throw resourceMissing('payment_method', path.payment_method ?? '', 'payment_method');
      }
      const before = record.object;
      const after: PaymentMethodObject = {
        ...before,
        ...(allowRedisplay === undefined ? {} : { allow_redisplay: allowRedisplay }),
        ...(billingDetails === undefined ? {} : { billing_details: billingDetails }),
        card: {
          ...before.card,
          ...(expMonth === undefined ? {} : { exp_month: expMonth }),
          ...(expYear === undefined ? {} : { exp_year: expYear < 100 ? 2000 + expYear : expYear }),
        },
        metadata: applyMetadata(before.metadata, metadata),
      };
      const changed = previousAttributes(before, after);
      if (changed !== undefined) {
        ctx.account.paymentMethods.replace(after.id, { ...record, object: after });
        ctx.emit('payment_method.updated', after, changed);
      }
      return { body: (changed === undefined ? before : after) as unknown as JsonObject };
    };
  },
};

const attach: RouteSpec = {
  method: 'POST',
  pattern: '/v1/payment_methods/:payment_method/attach',
  params: ['customer', 'customer_account'],
  result: 'payment_method',
  lock: 'payment_method',
  handle(p, path) {
    const customer = p.requiredString('customer');
    return (ctx) => {
      const record = resolvePaymentMethod(ctx, path.payment_method ?? '', 'payment_method');
      const { decline, attachSucceeds } = record.card;
      // Stripe may decline decline-cards on attach (SANDBOX.md §9 #3); the sandbox does only when asked.
      if (ctx.core.settings.declineOnAttach && decline !== undefined && attachSucceeds !== true) {
        liveCustomer(ctx.account, customer, 'customer');
        throw new CardError(decline.message, {
          code: decline.code,
          ...(decline.declineCode === undefined ? {} : { declineCode: decline.declineCode }),
          ...(decline.param === undefined ? {} : { param: decline.param }),
          paymentMethod: record.object as unknown as JsonObject,
        });
      }
      const attached = attachPaymentMethod(ctx, record, customer);
      if (attached !== record) {
        ctx.emit('payment_method.attached', attached.object);
      }
      return { body: attached.object as unknown as JsonObject };
    };
  },
};

const detach: RouteSpec = {
  method: 'POST',
  pattern: '/v1/payment_methods/:payment_method/detach',
  params: [],
  result: 'payment_method',
  lock: 'payment_method',
  handle(_p, path) {
    return (ctx) => {
      const id = path.payment_method ?? '';
      const record = ctx.account.paymentMethods.get(id);
      if (record === undefined) {
        throw resourceMissing('payment_method', id, 'payment_method');
      }
      const customerId = record.object.customer;
      if (customerId === null) {
        throw new InvalidRequestError(`The payment method ${id} is not attached to a customer.`, {
          param: 'payment_method',
        });
      }
      const detached: PaymentMethodRecord = { ...record, object: { ...record.object, customer: null } };
      ctx.account.paymentMethods.replace(id, detached);
      ctx.emit('payment_method.detached', detached.object);
      const customer = ctx.account.customers.get(customerId);
      if (
        customer !== undefined &&
        !customer.deleted &&
        customer.object.invoice_settings.default_payment_method === id
      ) {
        const after = {
          ...customer.object,
          invoice_settings: { ...customer.object.invoice_settings, default_payment_method: null },
        };
        ctx.account.customers.replace(customerId, { object: after, deleted: false });
        ctx.emit('customer.updated', after, { invoice_settings: customer.object.invoice_settings });
      }
      return { body: detached.object as unknown as JsonObject };
    };
  },
};

const list: RouteSpec = {
  method: 'GET',
  pattern: '/v1/payment_methods',
  params: [...PAGE_PARAMS, 'customer', 'customer_account', 'type', 'allow_redisplay'],
  result: 'list:payment_method',
  handle(p) {
    const page = parsePage(p);
    const customer = p.string('customer') ?? undefined;
    const type = p.string('type') ?? undefined;
    return (ctx) => {
      if (customer !== undefined) {
        liveCustomer(ctx.account, customer, 'customer');
      }
      const result = ctx.account.paymentMethods.page(
        page,
        (r) =>
          (customer === undefined || r.object.customer === customer) &&
          (type === undefined || r.object.type === type),
      );
      return { body: listObject('/v1/payment_methods', result, (r) => r.object) };
    };
  },
};

export const paymentMethodRoutes: readonly RouteSpec[] = [create, retrieve, update, attach, detach, list];
