import { z } from 'zod';
import { defineRoute } from './route.js';

/**
 * The body of `GET /api/v1/openapi.json`: only its version is pinned here, the rest is the document
 * that the OpenAPI 3.1 meta-schema describes (the tests validate it against that).
 */
export const ZOpenApiDocumentResponse = z.object({ openapi: z.literal('3.1.0') }).catchall(z.unknown());

/** What the document route needs: the document, built once by whoever mounts it. */
export interface OpenApiDeps {
  readonly openApiDocument: () => z.output<typeof ZOpenApiDocumentResponse>;
}

/**
 * `GET /openapi.json`: this API's OpenAPI 3.1 document. It takes no key (it is in
 * UNAUTHENTICATED_ROUTES): it describes the public contract and holds nothing about any account, and
 * tools and people must be able to read it before they hold a key.
 */
export const openApiRoute = defineRoute(
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    tags: ['meta'],
    auth: 'none',
    request: {},
    response: { status: 200, description: 'The OpenAPI 3.1 document.', schema: ZOpenApiDocumentResponse },
    errors: [],
  },
  (_input, _res, { openApiDocument }: OpenApiDeps) => openApiDocument(),
);
