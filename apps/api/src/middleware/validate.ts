import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { InternalError } from '@pay/core';
import { z } from 'zod';
import { validationErrorFromZod, type InputLocation } from '../errors/from-zod.js';
import { recordRoute } from './route-label.js';

/** The schemas of one route's inputs; any may be left out. */
export interface InputSchemas {
  readonly body?: z.ZodType;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
}

/** The parsed inputs of a route, typed from its schemas. */
export type ValidatedInput<S extends InputSchemas> = {
  readonly [K in keyof S]: S[K] extends z.ZodType ? z.output<S[K]> : never;
};

/** The middleware validate() returns; it carries its schemas so {@link validated} can type the result. */
export type Validator<S extends InputSchemas> = RequestHandler & { readonly schemas: S };

const LOCATIONS: readonly InputLocation[] = ['params', 'query', 'body'];

/**
 * Object schemas are made strict: an unknown field is a 400, not silently dropped, so a client that
 * sends `card_number` learns at once that pay never takes one. Exported so the OpenAPI document
 * describes exactly the schema validate() applies.
 */
export function strictInput(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodObject ? schema.strict() : schema;
}

/**
 * Parses a route's path params, query and body with zod (strict objects) and stores the results on
 * `res.locals.validated`; a failure becomes a 400 `invalid_request` whose `param` is the first failing
 * field. Also records the route pattern for metrics.
 */
export function validate<const S extends InputSchemas>(schemas: S): Validator<S> {
  const compiled = new Map(
    LOCATIONS.flatMap((location) => {
      const schema = schemas[location];
      return schema === undefined ? [] : [[location, strictInput(schema)] as const];
    }),
  );
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    recordRoute(req, res, () => undefined);
    const parsed: Record<string, unknown> = {};
    for (const [location, schema] of compiled) {
      const input: unknown = location === 'body' ? req.body : location === 'query' ? req.query : req.params;
      const result = schema.safeParse(input);
      if (!result.success) {
        next(validationErrorFromZod(result.error, location));
        return;
      }
      parsed[location] = result.data;
    }
    res.locals.validated = parsed;
    next();
  };
  return Object.assign(middleware, { schemas });
}

/** The inputs `validator` parsed for this request, typed from its schemas. */
export function validated<S extends InputSchemas>(res: Response, validator: Validator<S>): ValidatedInput<S> {
  if (res.locals.validated === undefined) {
    throw new InternalError(
      `validated() called on a route without validate(${Object.keys(validator.schemas).join(', ')})`,
    );
  }
  return res.locals.validated as ValidatedInput<S>;
}
