import fs from 'node:fs';
import path from 'node:path';
import type { PayErrorCode } from '@pay/core';
import { z } from 'zod';
import { ZErrorBody } from '../errors/error-body.js';
import { STATUS } from '../errors/error-status.js';
import { strictInput } from '../middleware/validate.js';
import { ROUTE_GROUPS, type RouteGroup } from '../routes/catalog.js';
import { impliedErrors, type ResponseSpec, type RouteSpec } from '../routes/route.js';

/** A JSON Schema (2020-12, OpenAPI 3.1's dialect) or any other JSON object of the document. */
export type JsonObject = { [key: string]: unknown };

/** An OpenAPI 3.1 document (the parts pay writes; the meta-schema checks the rest in the tests). */
export type OpenApiDocument = {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly servers: readonly { readonly url: string; readonly description: string }[];
  readonly security: readonly JsonObject[];
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: { readonly [path: string]: { readonly [method: string]: JsonObject } };
  readonly components: {
    readonly securitySchemes: { readonly bearerAuth: JsonObject };
    readonly schemas: { readonly Error: JsonObject };
  };
};

/** Options of {@link buildOpenApiDocument}. */
export interface OpenApiDocumentOptions {
  /** The server URL clients call; defaults to `/`, the origin that serves the document. */
  readonly serverUrl?: string;
  /** The routes to describe; defaults to every route pay mounts through the registry. */
  readonly groups?: readonly RouteGroup[];
}

const TAGS = [
  {
    name: 'payments',
    description:
      'Taking a subscription payment (idempotent, with 3-D Secure when the card needs it) and reading payments.',
  },
  { name: 'plans', description: 'What a customer can subscribe to, with its price.' },
  {
    name: 'refunds',
    description:
      'Giving money back (admin keys only): partial or full, bounded by what was captured, four eyes above a threshold, audited.',
  },
  {
    name: 'subscriptions',
    description:
      "An end user's subscriptions: reading them, cancelling now or at period end, resuming, changing the card.",
  },
  {
    name: 'webhooks',
    description: 'Where Stripe delivers its events: signed, stored durably, then applied by the workers.',
  },
  { name: 'probes', description: 'Liveness and readiness, for orchestrators; no key needed.' },
  { name: 'meta', description: 'This document.' },
];

const ERROR_REF = { $ref: '#/components/schemas/Error' };

// Read at run time: the file sits two folders up both from src/openapi (tests) and dist/openapi (built).
function apiVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  const { version } = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string };
  return version;
}

/**
 * One zod schema as JSON Schema 2020-12, the dialect of OpenAPI 3.1. `io: 'input'` describes what a
 * request may send (before transforms and defaults), `output` what a response holds. Anything JSON
 * Schema cannot say makes zod throw, so the document never silently under-describes a route.
 */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const converted: JsonObject = {
    ...z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      override: ({ zodSchema, jsonSchema }) => {
        // Metadata may retype a query-string text as the number it stands for (`limit`): a `pattern`
        // only applies to strings, so it would only confuse a reader there.
        if (jsonSchema.type !== undefined && jsonSchema.type !== 'string') {
          delete jsonSchema.pattern;
        }
        // zod leaves defaults out of input schemas (a default is an output value), but what the server
        // assumes when a request leaves a field out is exactly what OpenAPI's `default` means.
        const def = zodSchema._zod.def;
        if (io === 'input' && def.type === 'default' && 'defaultValue' in def) {
          jsonSchema.default = def.defaultValue;
        }
      },
    }),
  };
  // Every schema object of the document shares the document's dialect; a `$schema` per schema is noise.
  delete converted.$schema;
  return converted;
}

/** The Express pattern `/plans/:id` as an OpenAPI path template `/plans/{id}`. */
function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function parameters(spec: RouteSpec): JsonObject[] {
  const locations = [
    ['path', spec.request.params],
    ['query', spec.request.query],
  ] as const;
  return locations.flatMap(([location, schema]) => {
    if (schema === undefined) {
      return [];
    }
    const object = toJsonSchema(strictInput(schema), 'input');
    const properties = (object.properties ?? {}) as Record<string, JsonObject>;
    const required = new Set((object.required ?? []) as string[]);
    if (object.type !== 'object') {
      throw new Error(`${spec.operationId}: ${location} parameters must be a zod object`);
    }
    return Object.entries(properties).map(([name, property]) => ({
      name,
      in: location,
      // OpenAPI requires path parameters to be required.
      required: location === 'path' || required.has(name),
      schema: property,
    }));
  });
}

function headerParameters(spec: RouteSpec): JsonObject[] {
  return Object.entries(spec.requestHeaders ?? {}).map(([name, header]) => ({
    name,
    in: 'header',
    description: header.description,
    required: header.required,
    schema: toJsonSchema(header.schema, 'input'),
  }));
}

/** The documented error responses: one per HTTP status, naming the codes that answer with it. */
function errorResponses(spec: RouteSpec): JsonObject {
  const codes = [...new Set<PayErrorCode>([...impliedErrors(spec), ...spec.errors])];
  const byStatus = new Map<number, PayErrorCode[]>();
  for (const code of codes) {
    byStatus.set(STATUS[code], [...(byStatus.get(STATUS[code]) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, statusCodes]) => [
        String(status),
        {
          description: `Error, with \`code\` ${statusCodes.map((c) => `\`${c}\``).join(' or ')}.`,
          content: { 'application/json': { schema: ERROR_REF } },
        },
      ]),
  );
}

/** One documented answer: its JSON body, or its page, or no body; and its headers. */
function answer(response: ResponseSpec): JsonObject {
  const { schema, mediaType, headers } = response;
  const content =
    schema !== undefined
      ? { 'application/json': { schema: toJsonSchema(schema, 'output') } }
      : mediaType !== undefined
        ? { [mediaType]: { schema: { type: 'string' } } }
        : undefined;
  return {
    description: response.description,
    ...(headers === undefined
      ? {}
      : {
          headers: Object.fromEntries(
            Object.entries(headers).map(([name, header]) => [
              name,
              {
                description: header.description,
                required: header.required,
                schema: toJsonSchema(header.schema, 'output'),
              },
            ]),
          ),
        }),
    ...(content === undefined ? {} : { content }),
  };
}

/** The route's own answers by status: the usual one and those its handler may pick. */
function answers(spec: RouteSpec): JsonObject {
  const all = [...(spec.response === undefined ? [] : [spec.response]), ...(spec.replies ?? [])];
  const byStatus: JsonObject = {};
  for (const response of all) {
    const status = String(response.status);
    if (byStatus[status] !== undefined) {
      throw new Error(`${spec.operationId} declares two answers with status ${status}`);
    }
    byStatus[status] = answer(response);
  }
  return byStatus;
}

function requestBody(spec: RouteSpec): JsonObject | undefined {
  const { body } = spec.request;
  if (body !== undefined) {
    return {
      required: true,
      content: { 'application/json': { schema: toJsonSchema(strictInput(body), 'input') } },
    };
  }
  if (spec.rawBody !== undefined) {
    return {
      required: true,
      description: spec.rawBody.description,
      content: { 'application/json': { schema: toJsonSchema(spec.rawBody.schema, 'input') } },
    };
  }
  return undefined;
}

function operation(spec: RouteSpec): JsonObject {
  const body = requestBody(spec);
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    tags: [...spec.tags],
    // An empty list lifts the document-wide bearer requirement.
    ...(spec.auth === 'none' ? { security: [] } : {}),
    parameters: [...parameters(spec), ...headerParameters(spec)],
    ...(body === undefined ? {} : { requestBody: body }),
    responses: withoutClash(spec, answers(spec), errorResponses(spec)),
  };
}

/** An answer and an error on one status would each hide the other: a route declares one or the other. */
function withoutClash(spec: RouteSpec, own: JsonObject, errors: JsonObject): JsonObject {
  const clash = Object.keys(own).find((status) => status in errors);
  if (clash !== undefined) {
    throw new Error(`${spec.operationId} declares status ${clash} both as an answer and as an error`);
  }
  return { ...own, ...errors };
}

/**
 * pay's OpenAPI 3.1.0 document, derived from the same route declarations (and so the same zod schemas)
 * that Express mounts and validates with. Every route needs a Bearer API key unless it says otherwise
 * (the probes and the document itself).
 */
export function buildOpenApiDocument(options: OpenApiDocumentOptions = {}): OpenApiDocument {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const group of options.groups ?? ROUTE_GROUPS) {
    for (const { spec } of group.routes) {
      const key = openApiPath(`${group.prefix}${spec.path}`);
      const item = (paths[key] ??= {});
      if (item[spec.method] !== undefined) {
        throw new Error(`Two routes declare ${spec.method.toUpperCase()} ${key}`);
      }
      item[spec.method] = operation(spec);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'pay API',
      version: apiVersion(),
      description:
        'Payments on Stripe. Amounts are integers in minor units, currencies lowercase ISO-4217, times ' +
        'ISO-8601 UTC. Every error body has the `Error` shape, with one HTTP status per `code`.',
    },
    servers: [{ url: options.serverUrl ?? '/', description: 'The pay instance serving this document.' }],
    security: [{ bearerAuth: [] }],
    tags: TAGS,
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key: `Authorization: Bearer <key>`, created with `pay api-keys create`.',
        },
      },
      schemas: { Error: toJsonSchema(ZErrorBody, 'output') },
    },
  };
}
