import { InvalidRequestError, resourceMissing, type JsonObject } from '../errors.js';
import { Collection } from '../store/collection.js';
import { listObject, PAGE_PARAMS, parsePage } from '../store/list.js';
import type { WebhookEndpointObject } from '../webhooks/hub.js';
import { applyMetadata, type Params } from '../wire/params.js';
import type { RouteSpec } from './router.js';

/*
 * `/v1/webhook_endpoints`: the sandbox decodes and validates the parameters; the webhook hub owns the
 * endpoints, their secrets and deliveries.
 */

function parseUrl(p: Params): string | undefined {
  const url = p.string('url') ?? undefined;
  if (url === undefined) {
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidRequestError(`Invalid URL: ${url}. URLs must begin with http:// or https://.`, {
      param: 'url',
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidRequestError(`Invalid URL: ${url}. URLs must begin with http:// or https://.`, {
      param: 'url',
    });
  }
  return url;
}

function parseEvents(p: Params): string[] | undefined {
  const events = p.stringArray('enabled_events');
  if (events !== undefined && (events.length === 0 || events.some((e) => e === ''))) {
    throw new InvalidRequestError('Invalid enabled_events: provide at least one event type, or *.', {
      param: 'enabled_events',
    });
  }
  return events;
}

const notFound = (id: string): Error => resourceMissing('webhook_endpoint', id, 'webhook_endpoint');

const create: RouteSpec = {
  method: 'POST',
  pattern: '/v1/webhook_endpoints',
  params: ['enabled_events', 'url', 'api_version', 'connect', 'description', 'metadata'],
  result: 'webhook_endpoint',
  handle(p) {
    const url = parseUrl(p);
    if (url === undefined) {
      throw new InvalidRequestError('Missing required param: url.', {
        code: 'parameter_missing',
        param: 'url',
      });
    }
    const events = parseEvents(p);
    if (events === undefined) {
      throw new InvalidRequestError('Missing required param: enabled_events.', {
        code: 'parameter_missing',
        param: 'enabled_events',
      });
    }
    if (p.boolean('connect') === true) {
      throw new InvalidRequestError('The sandbox does not support Connect webhook endpoints.', {
        param: 'connect',
      });
    }
    const apiVersion = p.string('api_version') ?? undefined;
    const description = p.string('description') ?? undefined;
    // A fresh object: the hub keeps what it is given.
    const metadata = { ...applyMetadata({}, p.metadata()) };
    return (ctx) => ({
      body: ctx.core.hub.createEndpoint(ctx.account.id, {
        url,
        enabled_events: events,
        ...(apiVersion === undefined ? {} : { api_version: apiVersion }),
        ...(description === undefined ? {} : { description }),
        metadata,
      }) as unknown as JsonObject,
    });
  },
};

const retrieve: RouteSpec = {
  method: 'GET',
  pattern: '/v1/webhook_endpoints/:webhook_endpoint',
  params: [],
  result: 'webhook_endpoint',
  handle(_p, path) {
    return (ctx) => {
      const id = path.webhook_endpoint ?? '';
      const endpoint = ctx.core.hub.retrieveEndpoint(ctx.account.id, id);
      if (endpoint === null) {
        throw notFound(id);
      }
      return { body: endpoint as unknown as JsonObject };
    };
  },
};

const update: RouteSpec = {
  method: 'POST',
  pattern: '/v1/webhook_endpoints/:webhook_endpoint',
  params: ['description', 'disabled', 'enabled_events', 'metadata', 'url'],
  result: 'webhook_endpoint',
  handle(p, path) {
    const url = parseUrl(p);
    const events = parseEvents(p);
    const disabled = p.boolean('disabled');
    const description = p.string('description');
    const metadata = p.metadata();
    return (ctx) => {
      const id = path.webhook_endpoint ?? '';
      const current = ctx.core.hub.retrieveEndpoint(ctx.account.id, id);
      if (current === null) {
        throw notFound(id);
      }
      const updated = ctx.core.hub.updateEndpoint(ctx.account.id, id, {
        ...(url === undefined ? {} : { url }),
        ...(events === undefined ? {} : { enabled_events: events }),
        ...(disabled === undefined ? {} : { disabled }),
        ...(description === undefined ? {} : { description: description ?? '' }),
        ...(metadata === undefined ? {} : { metadata: { ...applyMetadata(current.metadata, metadata) } }),
      });
      if (updated === null) {
        throw notFound(id);
      }
      return { body: updated as unknown as JsonObject };
    };
  },
};

const remove: RouteSpec = {
  method: 'DELETE',
  pattern: '/v1/webhook_endpoints/:webhook_endpoint',
  params: [],
  result: 'webhook_endpoint',
  handle(_p, path) {
    return (ctx) => {
      const id = path.webhook_endpoint ?? '';
      const deleted = ctx.core.hub.deleteEndpoint(ctx.account.id, id);
      if (deleted === null) {
        throw notFound(id);
      }
      return { body: deleted };
    };
  },
};

const list: RouteSpec = {
  method: 'GET',
  pattern: '/v1/webhook_endpoints',
  params: [...PAGE_PARAMS],
  result: 'list:webhook_endpoint',
  handle(p) {
    const page = parsePage(p);
    return (ctx) => {
      const all = new Collection<WebhookEndpointObject>('webhook_endpoint');
      // The hub lists newest first, like every Stripe list; the collection wants creation order.
      const endpoints = [...ctx.core.hub.listEndpoints(ctx.account.id)]
        .reverse()
        .sort((a, b) => a.created - b.created);
      for (const endpoint of endpoints) {
        all.insert(endpoint.id, endpoint);
      }
      return { body: listObject('/v1/webhook_endpoints', all.page(page), (e) => e) };
    };
  },
};

export const webhookEndpointRoutes: readonly RouteSpec[] = [create, retrieve, update, remove, list];
