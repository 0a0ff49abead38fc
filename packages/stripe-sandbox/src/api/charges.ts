import { resourceMissing, type JsonObject } from '../errors.js';
import type { ChargeObject } from '../objects/charge.js';
import { previousAttributes } from '../objects/event.js';
import type { ChargeRecord } from '../store/account.js';
import { listObject, PAGE_PARAMS, parsePage, parseRange } from '../store/list.js';
import { applyMetadata } from '../wire/params.js';
import type { ExecContext } from './context.js';
import type { RouteSpec } from './router.js';

export function findCharge(ctx: ExecContext, id: string, param = 'charge'): ChargeRecord {
  const record = ctx.account.charges.get(id);
  if (record === undefined) {
    throw resourceMissing('charge', id, param);
  }
  return record;
}

const retrieve: RouteSpec = {
  method: 'GET',
  pattern: '/v1/charges/:charge',
  params: [],
  result: 'charge',
  handle(_p, path) {
    return (ctx) => ({ body: findCharge(ctx, path.charge ?? '').object as unknown as JsonObject });
  },
};

const update: RouteSpec = {
  method: 'POST',
  pattern: '/v1/charges/:charge',
  params: [
    'customer',
    'description',
    'fraud_details',
    'metadata',
    'receipt_email',
    'shipping',
    'transfer_group',
  ],
  result: 'charge',
  lock: 'charge',
  handle(p, path) {
    const metadata = p.metadata();
    const changes = {
      ...(p.has('description') ? { description: p.string('description') ?? null } : {}),
      ...(p.has('receipt_email') ? { receipt_email: p.string('receipt_email') ?? null } : {}),
      ...(p.has('shipping') ? { shipping: p.json('shipping') ?? null } : {}),
      ...(p.has('fraud_details') ? { fraud_details: p.json('fraud_details') ?? {} } : {}),
      ...(p.has('transfer_group') ? { transfer_group: p.string('transfer_group') ?? null } : {}),
    };
    return (ctx) => {
      const record = findCharge(ctx, path.charge ?? '');
      const before = record.object;
      const after: ChargeObject = {
        ...before,
        ...changes,
        metadata: applyMetadata(before.metadata, metadata),
      };
      const changed = previousAttributes(before, after);
      if (changed === undefined) {
        return { body: before as unknown as JsonObject };
      }
      ctx.account.charges.replace(after.id, { ...record, object: after });
      // "Occurs whenever a charge description or metadata is updated, or upon an asynchronous capture."
      ctx.emit('charge.updated', after, changed);
      return { body: after as unknown as JsonObject };
    };
  },
};

const list: RouteSpec = {
  method: 'GET',
  pattern: '/v1/charges',
  params: [...PAGE_PARAMS, 'created', 'customer', 'payment_intent', 'transfer_group'],
  result: 'list:charge',
  handle(p) {
    const page = parsePage(p);
    const customer = p.string('customer') ?? undefined;
    const paymentIntent = p.string('payment_intent') ?? undefined;
    const transferGroup = p.string('transfer_group') ?? undefined;
    const created = parseRange(p, 'created');
    return (ctx) => {
      const result = ctx.account.charges.page(page, ({ object: c }) => {
        return (
          (customer === undefined || c.customer === customer) &&
          (paymentIntent === undefined || c.payment_intent === paymentIntent) &&
          (transferGroup === undefined || c.transfer_group === transferGroup) &&
          (created === undefined || created(c.created))
        );
      });
      return { body: listObject('/v1/charges', result, (r) => r.object) };
    };
  },
};

export const chargeRoutes: readonly RouteSpec[] = [retrieve, update, list];
