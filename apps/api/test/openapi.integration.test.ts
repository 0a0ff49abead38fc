import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { IssuedApiKey } from '@pay/core';
import type { Pay } from '@pay/runtime';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import request from 'supertest';
import {
  API_V1_PREFIX,
  API_V1_ROUTES,
  apiV1Router,
  buildOpenApiDocument,
  createApp,
  createMetrics,
  ROUTE_GROUPS,
  UNAUTHENTICATED_ROUTES,
  type JsonObject,
  type OpenApiDocument,
} from '../src/index.js';
import { makeTempDir, openEmbeddedPay } from './helpers.js';

const DOCUMENT_PATH = `${API_V1_PREFIX}/openapi.json`;

/**
 * Validates `document` with @seriousme/openapi-schema-validator (the OpenAPI 3.1 meta-schema plus
 * reference checks). The package is ES modules only and jest here runs CommonJS, so it runs in a plain
 * Node child process, the way a CI lint step would.
 */
function validateOpenApi(document: unknown): { valid: boolean; errors?: unknown } {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const result = await new Validator().validate(JSON.parse(input));
    process.stdout.write(JSON.stringify(result));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.join(__dirname, '..'),
    input: JSON.stringify(document),
    encoding: 'utf8',
  });
  return JSON.parse(output) as { valid: boolean; errors?: unknown };
}

/** A JSON Schema 2020-12 validator for the document's schemas, resolving refs into the document. */
function schemaValidator(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'pay-openapi', components: document.components }, 'pay-openapi');
  return (schema: JsonObject, value: unknown) => {
    // `#/components/...` refs point into the document: rewrite them to the schema registered above.
    const resolved = JSON.parse(
      JSON.stringify(schema).replaceAll('"#/components/', '"pay-openapi#/components/'),
    ) as JsonObject;
    const validateValue = ajv.compile(resolved);
    return { valid: validateValue(value), errors: validateValue.errors };
  };
}

type Operation = {
  parameters: { name: string; in: string; required: boolean; schema: JsonObject; description?: string }[];
  security?: unknown[];
  responses: Record<
    string,
    {
      description: string;
      headers?: Record<string, { required: boolean; schema: JsonObject }>;
      content?: Record<string, { schema: JsonObject }>;
    }
  >;
};

const operationOf = (document: OpenApiDocument, route: string, method: string): Operation => {
  const operation = document.paths[route]?.[method];
  if (operation === undefined) {
    throw new Error(`${method.toUpperCase()} ${route} is not in the document`);
  }
  return operation as Operation;
};

/** The documented JSON schema of the `status` answer of `method route`. */
const responseSchema = (
  document: OpenApiDocument,
  route: string,
  method: string,
  status: number,
): JsonObject => {
  const schema = operationOf(document, route, method).responses[String(status)]?.content?.['application/json']
    ?.schema;
  if (schema === undefined) {
    throw new Error(`${method.toUpperCase()} ${route} documents no JSON ${status}`);
  }
  return schema;
};

/** The documented schema of the 200 answer of `method route`. */
const successSchema = (document: OpenApiDocument, route: string, method: string): JsonObject =>
  responseSchema(document, route, method, 200);

describe('the OpenAPI document', () => {
  const temp = makeTempDir();
  let pay: Pay;
  let app: Express;
  let key: IssuedApiKey;
  let served: OpenApiDocument;

  beforeAll(async () => {
    pay = await openEmbeddedPay(temp.dir);
    app = createApp({ pay });
    const operator = { type: 'cli_operator', id: 'ops-test' } as const;
    const account = await pay.services.accounts.createAccount('Acme', operator);
    key = await pay.services.accounts.createApiKey(
      { accountId: account.id, name: 'svc', role: 'service' },
      operator,
    );
    for (const interval of ['month', 'year'] as const) {
      await pay.services.plans.createPlan(
        { accountId: account.id, name: `Pro ${interval}`, amount: 1500, currency: 'usd', interval },
        operator,
      );
    }
    const res = await request(app).get(DOCUMENT_PATH);
    expect(res.status).toBe(200);
    served = res.body as OpenApiDocument;
  });

  afterAll(async () => {
    await pay?.close();
    temp.remove();
  });

  it('is served without an API key, as JSON, equal to buildOpenApiDocument()', async () => {
    const res = await request(app).get(DOCUMENT_PATH);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
    // Only that exact route is exempt: another spelling or method still needs a key.
    expect((await request(app).get(`${API_V1_PREFIX}/plans`)).status).toBe(401);
    expect((await request(app).post(DOCUMENT_PATH)).status).toBe(401);
  });

  it('is a valid OpenAPI 3.1.0 document', () => {
    expect(served.openapi).toBe('3.1.0');
    expect(validateOpenApi(served)).toEqual({ valid: true });
  });

  it('has the version, the server, and bearer auth everywhere but the probes and itself', () => {
    expect(served.info).toMatchObject({ title: 'pay API', version: '0.1.0' });
    expect(served.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(served.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(served.security).toEqual([{ bearerAuth: [] }]);
    const open = Object.entries(served.paths).flatMap(([route, item]) =>
      Object.entries(item)
        .filter(([, operation]) => Array.isArray(operation.security) && operation.security.length === 0)
        .map(([method]) => `${method.toUpperCase()} ${route}`),
    );
    expect(open.sort()).toEqual([
      'GET /api/v1/openapi.json',
      'GET /api/v1/payments/{id}/return',
      'GET /healthz',
      'GET /readyz',
      'POST /api/v1/webhooks/stripe',
    ]);
  });

  it('lists every route mounted under /api/v1 with its method', () => {
    // Read what Express really mounted, not the registry: a route mounted around it would show here.
    const mounted = apiV1Router(pay.services, createMetrics()).stack.flatMap((layer) => {
      const route = layer.route as { path: string; methods: Record<string, boolean> } | undefined;
      return route === undefined
        ? []
        : Object.keys(route.methods).map((method) => `${method} ${API_V1_PREFIX}${route.path}`);
    });
    expect(mounted.length).toBe(API_V1_ROUTES.length);
    const documented = Object.entries(served.paths).flatMap(([route, item]) =>
      Object.keys(item).map((method) => `${method} ${route.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(documented).toEqual(expect.arrayContaining(mounted));
    expect(documented).toEqual(expect.arrayContaining(['get /healthz', 'get /readyz']));
  });

  it('agrees with UNAUTHENTICATED_ROUTES on which /api/v1 routes take no key', () => {
    const keyless = ROUTE_GROUPS.filter((group) => group.prefix === API_V1_PREFIX).flatMap((group) =>
      group.routes
        .filter(({ spec }) => spec.auth === 'none')
        .map(({ spec }) => ({ method: spec.method.toUpperCase(), path: `${group.prefix}${spec.path}` })),
    );
    const exempt = UNAUTHENTICATED_ROUTES.map(({ method, path }) => ({ method, path }));
    expect(exempt).toEqual(expect.arrayContaining(keyless));
  });

  it("documents the plans list's limit with its bounds and default, and starting_after", () => {
    const { parameters } = operationOf(served, '/api/v1/plans', 'get');
    expect(parameters).toEqual([
      {
        name: 'limit',
        in: 'query',
        required: false,
        schema: expect.objectContaining({ type: 'integer', minimum: 1, maximum: 100, default: 10 }),
      },
      { name: 'starting_after', in: 'query', required: false, schema: { type: 'string' } },
    ]);
    expect(parameters[0]?.schema).not.toHaveProperty('pattern');
  });

  it('documents the plan id path parameter and the error statuses from the STATUS table', () => {
    const operation = operationOf(served, '/api/v1/plans/{id}', 'get');
    expect(operation.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    // 429 and 503 come with the key: past its rate limit, or when the limiter's counters are unreachable.
    expect(Object.keys(operation.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '404',
      '429',
      '500',
      '503',
    ]);
    expect(operation.responses['404']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
    expect(Object.keys(operationOf(served, '/readyz', 'get').responses).sort()).toEqual([
      '200',
      '500',
      '503',
    ]);
  });

  it('tells the truth: real answers validate against their documented schemas', async () => {
    const check = schemaValidator(served);
    const listSchema = successSchema(served, '/api/v1/plans', 'get');
    const listed = await request(app)
      .get('/api/v1/plans?limit=1')
      .set('Authorization', `Bearer ${key.secret}`);
    expect(listed.status).toBe(200);
    const page = listed.body as { data: { id: string }[] };
    expect(page.data).toHaveLength(1);
    expect(check(listSchema, listed.body)).toEqual({ valid: true, errors: null });

    // The documented schema is strict: a field the API does not send would be refused.
    expect(check(listSchema, { ...page, extra: true }).valid).toBe(false);

    const one = await request(app)
      .get(`/api/v1/plans/${page.data[0]?.id ?? ''}`)
      .set('Authorization', `Bearer ${key.secret}`);
    expect(one.status).toBe(200);
    expect(check(successSchema(served, '/api/v1/plans/{id}', 'get'), one.body).valid).toBe(true);

    const probe = await request(app).get('/healthz');
    expect(check(successSchema(served, '/healthz', 'get'), probe.body).valid).toBe(true);
  });

  it('documents POST /payments: its key header, 201 and 402 with the payment, and replays', () => {
    const operation = operationOf(served, '/api/v1/payments', 'post');
    expect(operation.parameters).toEqual([
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }),
    ]);
    expect(Object.keys(operation.responses).sort()).toEqual([
      '201',
      '400',
      '401',
      '402',
      '404',
      '409',
      '413',
      '422',
      '429',
      '500',
      '502',
      '503',
    ]);
    for (const status of ['201', '402']) {
      expect(operation.responses[status]?.headers).toEqual({
        'Idempotent-Replayed': expect.objectContaining({ required: false }),
      });
    }
    expect(responseSchema(served, '/api/v1/payments', 'post', 402)).toEqual(
      responseSchema(served, '/api/v1/payments', 'post', 201),
    );
  });

  it('documents the 3-D Secure return: a 303 with Location, or a page, and no key', () => {
    const operation = operationOf(served, '/api/v1/payments/{id}/return', 'get');
    expect(operation.security).toEqual([]);
    expect(operation.responses['303']).toEqual({
      description: expect.any(String),
      headers: {
        Location: expect.objectContaining({ required: true, schema: { type: 'string' } }),
        'Cache-Control': expect.objectContaining({ required: true }),
      },
    });
    expect(operation.responses['200']?.content).toEqual({ 'text/html': { schema: { type: 'string' } } });
    expect(Object.keys(operation.responses).sort()).toEqual([
      '200',
      '303',
      '400',
      '404',
      '500',
      '502',
      '503',
    ]);
  });

  it('tells the truth about payments: real 201, 402, list and page answers fit their documents', async () => {
    const check = schemaValidator(served);
    const plans = await request(app)
      .get('/api/v1/plans?limit=1')
      .set('Authorization', `Bearer ${key.secret}`);
    const planId = (plans.body as { data: { id: string }[] }).data[0]?.id;
    const pay = (card: string) =>
      request(app)
        .post('/api/v1/payments')
        .set('Authorization', `Bearer ${key.secret}`)
        .set('Idempotency-Key', `openapi-${randomUUID()}`)
        .send({ user_id: 'doc-user', plan_id: planId, payment_method_id: card });

    const created = await pay('pm_card_visa');
    expect(created.status).toBe(201);
    expect(check(responseSchema(served, '/api/v1/payments', 'post', 201), created.body)).toEqual({
      valid: true,
      errors: null,
    });
    const declined = await pay('pm_card_chargeDeclinedInsufficientFunds');
    expect(declined.status).toBe(402);
    expect(check(responseSchema(served, '/api/v1/payments', 'post', 402), declined.body).valid).toBe(true);
    const challenged = await pay('pm_card_threeDSecure2Required');
    expect(challenged.status).toBe(201);
    expect(check(responseSchema(served, '/api/v1/payments', 'post', 201), challenged.body).valid).toBe(true);

    const listed = await request(app)
      .get('/api/v1/payments?user_id=doc-user')
      .set('Authorization', `Bearer ${key.secret}`);
    expect(listed.status).toBe(200);
    expect((listed.body as { data: unknown[] }).data).toHaveLength(3);
    expect(check(successSchema(served, '/api/v1/payments', 'get'), listed.body).valid).toBe(true);
    const one = await request(app)
      .get(`/api/v1/payments/${(created.body as { id: string }).id}`)
      .set('Authorization', `Bearer ${key.secret}`);
    expect(check(successSchema(served, '/api/v1/payments/{id}', 'get'), one.body).valid).toBe(true);

    // Without a return_url, the way back is the documented page.
    const page = await request(app).get(`/api/v1/payments/${(challenged.body as { id: string }).id}/return`);
    expect([page.status, page.headers['content-type']]).toEqual([200, expect.stringMatching(/^text\/html/)]);

    const conflict = await request(app)
      .post('/api/v1/payments')
      .set('Authorization', `Bearer ${key.secret}`)
      .send({ user_id: 'doc-user', plan_id: planId, payment_method_id: 'pm_card_visa' });
    expect(conflict.status).toBe(400);
    expect(check({ $ref: '#/components/schemas/Error' }, conflict.body).valid).toBe(true);
  });

  it('describes real error bodies with components.schemas.Error', async () => {
    const check = schemaValidator(served);
    const errors = [
      await request(app).get('/api/v1/plans'),
      await request(app).get('/api/v1/plans?limit=101').set('Authorization', `Bearer ${key.secret}`),
      await request(app).get('/api/v1/plans/pln_nope').set('Authorization', `Bearer ${key.secret}`),
    ];
    expect(errors.map((res) => res.status)).toEqual([401, 400, 400]);
    for (const res of errors) {
      expect(check({ $ref: '#/components/schemas/Error' }, res.body)).toEqual({ valid: true, errors: null });
    }
  });
});
