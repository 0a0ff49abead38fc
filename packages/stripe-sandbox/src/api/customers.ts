import { InvalidRequestError, resourceMissing, type JsonObject } from '../errors.js';
import { previousAttributes } from '../objects/event.js';
import { newCustomer, type CustomerFields, type CustomerObject } from '../objects/customer.js';
import type { Account, CustomerRecord } from '../store/account.js';
import { listObject, PAGE_PARAMS, parsePage, parseRange } from '../store/list.js';
import { applyMetadata, EMPTY_METADATA, type Params } from '../wire/params.js';
import type { ExecContext } from './context.js';
import { attachPaymentMethod } from './payment-methods.js';
import { resolvePaymentMethod } from './payment-method-source.js';
import type { RouteSpec } from './router.js';
import { customerView } from './views.js';

/** Every parameter the pinned SDK can send; the sandbox interprets the common ones and ignores the rest. */
const WRITE_PARAMS = [
  'address',
  'balance',
  'business_name',
  'cash_balance',
  'description',
  'email',
  'individual_name',
  'invoice_prefix',
  'invoice_settings',
  'metadata',
  'name',
  'next_invoice_sequence',
  'phone',
  'preferred_locales',
  'shipping',
  'source',
  'tax',
  'tax_exempt',
  'tax_id_data',
  'test_clock',
  'validate',
];

function parseFields(p: Params): CustomerFields {
  const fields: CustomerFields = {};
  const set = <K extends keyof CustomerFields>(key: K, value: CustomerFields[K] | undefined): void => {
    if (value !== undefined) {
      fields[key] = value;
    }
  };
  set('address', p.json('address'));
  set('balance', p.integer('balance'));
  set('description', p.string('description'));
  set('email', p.string('email'));
  set('name', p.string('name'));
  set('phone', p.string('phone'));
  set('preferred_locales', p.stringArray('preferred_locales'));
  set('shipping', p.json('shipping'));
  set('tax_exempt', p.enumeration('tax_exempt', ['none', 'exempt', 'reverse']) ?? undefined);
  return fields;
}

/** `invoice_settings[default_payment_method]`: undefined when absent, null when unset. */
function parseDefaultPaymentMethod(p: Params): string | null | undefined {
  const settings = p.hash('invoice_settings', 'any');
  return settings?.string('default_payment_method');
}

/** A live (not deleted) customer or Stripe's 404 naming `param`. */
export function liveCustomer(account: Account, id: string, param: string): CustomerRecord {
  const record = account.customers.get(id);
  if (record === undefined || record.deleted) {
    throw resourceMissing('customer', id, param);
  }
  return record;
}

function withDefaultPaymentMethod(
  ctx: ExecContext,
  customer: CustomerObject,
  pmId: string | null,
): CustomerObject {
  if (pmId !== null) {
    const pm = resolvePaymentMethod(ctx, pmId, 'invoice_settings[default_payment_method]');
    if (pm.object.customer !== customer.id) {
      throw new InvalidRequestError(
        `No such PaymentMethod: '${pmId}'; the payment method must be attached to the customer ${customer.id} first.`,
        { code: 'resource_missing', param: 'invoice_settings[default_payment_method]' },
      );
    }
    pmId = pm.object.id;
  }
  return { ...customer, invoice_settings: { ...customer.invoice_settings, default_payment_method: pmId } };
}

const create: RouteSpec = {
  method: 'POST',
  pattern: '/v1/customers',
  params: [...WRITE_PARAMS, 'payment_method'],
  result: 'customer',
  handle(p) {
    const fields = parseFields(p);
    const metadata = p.metadata();
    const paymentMethod = p.string('payment_method') ?? undefined;
    const defaultPm = parseDefaultPaymentMethod(p);
    return (ctx) => {
      let customer = newCustomer(ctx.now, fields, applyMetadata(EMPTY_METADATA, metadata));
      ctx.account.customers.insert(customer.id, { object: customer, deleted: false });
      ctx.created('customer', customer.id);
      // Attach before setting the default, so invoice_settings may name the method being attached.
      const attached =
        paymentMethod === undefined
          ? undefined
          : attachPaymentMethod(ctx, resolvePaymentMethod(ctx, paymentMethod, 'payment_method'), customer.id);
      if (defaultPm !== undefined && defaultPm !== null) {
        customer = withDefaultPaymentMethod(ctx, customer, defaultPm);
        ctx.account.customers.replace(customer.id, { object: customer, deleted: false });
      }
      ctx.emit('customer.created', customer);
      if (attached !== undefined) {
        ctx.emit('payment_method.attached', attached.object);
      }
      return { body: customer as unknown as JsonObject };
    };
  },
};

const retrieve: RouteSpec = {
  method: 'GET',
  pattern: '/v1/customers/:customer',
  params: [],
  result: 'customer',
  handle(_p, path) {
    return (ctx) => {
      const record = ctx.account.customers.get(path.customer ?? '');
      if (record === undefined) {
        throw resourceMissing('customer', path.customer ?? '', 'customer');
      }
      return { body: customerView(record) as unknown as JsonObject };
    };
  },
};

const update: RouteSpec = {
  method: 'POST',
  pattern: '/v1/customers/:customer',
  params: [...WRITE_PARAMS, 'default_source'],
  result: 'customer',
  lock: 'customer',
  handle(p, path) {
    const fields = parseFields(p);
    const metadata = p.metadata();
    const defaultPm = parseDefaultPaymentMethod(p);
    return (ctx) => {
      const before = liveCustomer(ctx.account, path.customer ?? '', 'customer').object;
      let after: CustomerObject = {
        ...before,
        ...fields,
        metadata: applyMetadata(before.metadata, metadata),
      };
      if (defaultPm !== undefined) {
        after = withDefaultPaymentMethod(ctx, after, defaultPm);
      }
      const changed = previousAttributes(before, after);
      if (changed === undefined) {
        return { body: before as unknown as JsonObject };
      }
      ctx.account.customers.replace(after.id, { object: after, deleted: false });
      ctx.emit('customer.updated', after, changed);
      return { body: after as unknown as JsonObject };
    };
  },
};

const remove: RouteSpec = {
  method: 'DELETE',
  pattern: '/v1/customers/:customer',
  params: [],
  result: 'customer',
  handle(_p, path) {
    return (ctx) => {
      const record = liveCustomer(ctx.account, path.customer ?? '', 'customer');
      ctx.account.customers.replace(record.object.id, { object: record.object, deleted: true });
      ctx.emit('customer.deleted', record.object);
      return { body: { id: record.object.id, object: 'customer', deleted: true } };
    };
  },
};

const list: RouteSpec = {
  method: 'GET',
  pattern: '/v1/customers',
  params: [...PAGE_PARAMS, 'email', 'created', 'test_clock'],
  result: 'list:customer',
  handle(p) {
    const page = parsePage(p);
    const email = p.string('email') ?? undefined;
    const created = parseRange(p, 'created');
    return (ctx) => {
      const result = ctx.account.customers.page(
        page,
        (r) =>
          !r.deleted &&
          (email === undefined || r.object.email === email) &&
          (created === undefined || created(r.object.created)),
      );
      return { body: listObject('/v1/customers', result, (r) => r.object) };
    };
  },
};

const listPaymentMethods: RouteSpec = {
  method: 'GET',
  pattern: '/v1/customers/:customer/payment_methods',
  params: [...PAGE_PARAMS, 'type', 'allow_redisplay'],
  result: 'list:payment_method',
  handle(p, path) {
    const page = parsePage(p);
    const type = p.string('type') ?? undefined;
    const customerId = path.customer ?? '';
    return (ctx) => {
      liveCustomer(ctx.account, customerId, 'customer');
      const result = ctx.account.paymentMethods.page(
        page,
        (r) => r.object.customer === customerId && (type === undefined || r.object.type === type),
      );
      return { body: listObject(`/v1/customers/${customerId}/payment_methods`, result, (r) => r.object) };
    };
  },
};

export const customerRoutes: readonly RouteSpec[] = [
  create,
  retrieve,
  update,
  remove,
  list,
  listPaymentMethods,
];
