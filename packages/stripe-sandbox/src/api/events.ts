import { InvalidRequestError, resourceMissing, type JsonObject } from '../errors.js';
import { renderEvent } from '../objects/event.js';
import { listObject, PAGE_PARAMS, parsePage, parseRange } from '../store/list.js';
import type { SandboxEvent } from '../webhooks/hub.js';
import { globToRegExp } from '../faults/api-faults.js';
import type { ExecContext } from './context.js';
import type { RouteSpec } from './router.js';

/** `GET /v1/events` covers the last 30 days, like Stripe's. */
const RETENTION_SECONDS = 30 * 86_400;

function render(ctx: ExecContext, event: SandboxEvent): JsonObject {
  return renderEvent(event, ctx.core.hub.pendingWebhooks(ctx.account.id, event.id)) as unknown as JsonObject;
}

/** `type` accepts `*` as a wildcard (`charge.*`), as Stripe's does. */
function typeMatcher(pattern: string): (type: string) => boolean {
  if (!pattern.includes('*')) {
    return (type) => type === pattern;
  }
  const re = globToRegExp(pattern.replace(/\*/g, '**'));
  return (type) => re.test(type);
}

const retrieve: RouteSpec = {
  method: 'GET',
  pattern: '/v1/events/:id',
  params: [],
  result: 'event',
  handle(_p, path) {
    return (ctx) => {
      const event = ctx.account.events.get(path.id ?? '');
      if (event === undefined) {
        throw resourceMissing('event', path.id ?? '', 'id');
      }
      return { body: render(ctx, event) };
    };
  },
};

const list: RouteSpec = {
  method: 'GET',
  pattern: '/v1/events',
  params: [...PAGE_PARAMS, 'created', 'delivery_success', 'type', 'types'],
  result: 'list:event',
  handle(p) {
    const page = parsePage(p);
    const type = p.string('type') ?? undefined;
    const types = p.stringArray('types');
    if (type !== undefined && types !== undefined) {
      throw new InvalidRequestError('You may only specify one of these parameters: type, types.', {
        param: 'types',
      });
    }
    if (types !== undefined && types.length > 20) {
      throw new InvalidRequestError('You may pass at most 20 values in types.', { param: 'types' });
    }
    const matchers = (types ?? (type === undefined ? [] : [type])).map(typeMatcher);
    const created = parseRange(p, 'created');
    const deliverySuccess = p.boolean('delivery_success');
    return (ctx) => {
      const oldest = ctx.now - RETENTION_SECONDS;
      const result = ctx.account.events.page(
        page,
        (e) =>
          e.created >= oldest &&
          (matchers.length === 0 || matchers.some((m) => m(e.type))) &&
          (created === undefined || created(e.created)) &&
          (deliverySuccess === undefined ||
            ctx.core.hub.deliverySucceeded(ctx.account.id, e.id) === deliverySuccess),
      );
      return { body: listObject('/v1/events', result, (e) => render(ctx, e)) };
    };
  },
};

export const eventRoutes: readonly RouteSpec[] = [retrieve, list];
