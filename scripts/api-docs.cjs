#!/usr/bin/env node
/*
 * `pnpm docs:api`: writes docs/api.md, the API reference, from the OpenAPI document the API serves at
 * /api/v1/openapi.json. The document is built the way the API builds it (`buildOpenApiDocument` of the
 * built @pay/api), without a server; the page is formatted with the repository's prettier so the
 * format check passes on it.
 *
 * `--check` writes nothing and fails (exit 1) when docs/api.md differs from what the document gives, so
 * `npm test` catches a route changed without its page. Records its count in PAY_TEST_RESULTS_DIR.
 * Needs apps/api built (`npm test` builds before its `after` steps).
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const PAGE = path.join(ROOT, 'docs', 'api.md');
const REGENERATE = 'node scripts/api-docs.cjs';

// Longer enums (currencies) are summarised: a table cell of 50 codes helps nobody.
const MAX_ENUM_SHOWN = 20;
// Nested fields shown as `a.b.c`; deeper ones are listed as their parent's type.
const MAX_DEPTH = 3;

const HTTP_ORDER = ['get', 'post', 'put', 'patch', 'delete'];

/** Escapes a table cell: no pipes or line breaks inside a cell. */
function cell(text) {
  return String(text ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

function resolve(document, schema) {
  if (schema && typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return { name, schema: document.components.schemas[name] };
  }
  return { name: null, schema };
}

/** A short type for people: `string`, `integer`, `"a" | "b"`, `string (date-time)`, `Error`. */
function typeOf(document, rawSchema) {
  const { name, schema } = resolve(document, rawSchema);
  if (name !== null) {
    return name;
  }
  if (schema === undefined || schema === null || Object.keys(schema).length === 0) {
    return 'any';
  }
  if (schema.const !== undefined) {
    return `\`${JSON.stringify(schema.const)}\``;
  }
  if (Array.isArray(schema.enum)) {
    const values = schema.enum.map((v) => `\`${JSON.stringify(v)}\``);
    return values.length > MAX_ENUM_SHOWN
      ? `${schema.type ?? 'enum'}: one of ${values.length} values (${values.slice(0, 3).join(', ')}, …)`
      : values.join(' | ');
  }
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) {
    return union.map((s) => typeOf(document, s)).join(' | ');
  }
  if (Array.isArray(schema.type)) {
    return schema.type.join(' | ');
  }
  if (schema.type === 'array') {
    return `array of ${typeOf(document, schema.items)}`;
  }
  if (schema.type === 'string' && schema.format !== undefined) {
    return `string (${schema.format})`;
  }
  return schema.type ?? 'object';
}

/** Bounds worth a reader's attention (lengths, ranges, patterns of ids). */
function constraints(schema) {
  const parts = [];
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    parts.push(`length ${schema.minLength ?? 0}–${schema.maxLength ?? '∞'}`);
  }
  if (schema.minimum !== undefined) {
    parts.push(`≥ ${schema.minimum}`);
  }
  if (schema.exclusiveMinimum !== undefined) {
    parts.push(`> ${schema.exclusiveMinimum}`);
  }
  if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER) {
    parts.push(`≤ ${schema.maximum}`);
  }
  if (schema.default !== undefined) {
    parts.push(`default \`${JSON.stringify(schema.default)}\``);
  }
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** The rows of an object schema's fields, nested ones as `parent.child` and `list[].child`. */
function fieldRows(document, rawSchema, prefix = '', depth = 0) {
  const { schema } = resolve(document, rawSchema);
  if (schema === undefined || schema.properties === undefined) {
    return [];
  }
  const required = new Set(schema.required ?? []);
  const rows = [];
  for (const [field, rawChild] of Object.entries(schema.properties)) {
    const { schema: child } = resolve(document, rawChild);
    const nullable = (child.anyOf ?? child.oneOf ?? []).find((s) => s.type !== 'null');
    const objectLike = nullable ?? child;
    const name = `${prefix}${field}`;
    rows.push(
      `| \`${name}\` | ${cell(typeOf(document, rawChild) + constraints(child))} | ${required.has(field) ? 'yes' : 'no'} | ${cell(child.description ?? objectLike.description ?? '')} |`,
    );
    if (depth + 1 < MAX_DEPTH) {
      if (objectLike.type === 'object' || objectLike.properties !== undefined) {
        rows.push(...fieldRows(document, objectLike, `${name}.`, depth + 1));
      } else if (objectLike.type === 'array' && objectLike.items !== undefined) {
        rows.push(...fieldRows(document, objectLike.items, `${name}[].`, depth + 1));
      }
    }
  }
  return rows;
}

function fieldTable(document, schema) {
  const rows = fieldRows(document, schema);
  if (rows.length === 0) {
    return [];
  }
  return ['| field | type | required | description |', '| --- | --- | --- | --- |', ...rows, ''];
}

function jsonSchemaOf(content) {
  return content?.['application/json']?.schema;
}

function renderOperation(document, method, route, operation) {
  const lines = [`### \`${method.toUpperCase()} ${route}\``, '', `**${operation.summary}.**`, ''];
  if (operation.description) {
    lines.push(operation.description, '');
  }
  const open = Array.isArray(operation.security) && operation.security.length === 0;
  lines.push(
    open ? 'No API key.' : 'Needs an API key (`Authorization: Bearer <key>`).',
    `Operation id: \`${operation.operationId}\`.`,
    '',
  );
  const parameters = operation.parameters ?? [];
  if (parameters.length > 0) {
    lines.push('| parameter | in | type | required | description |', '| --- | --- | --- | --- | --- |');
    for (const p of parameters) {
      lines.push(
        `| \`${p.name}\` | ${p.in} | ${cell(typeOf(document, p.schema) + constraints(p.schema ?? {}))} | ${p.required ? 'yes' : 'no'} | ${cell(p.description ?? p.schema?.description ?? '')} |`,
      );
    }
    lines.push('');
  }
  const body = jsonSchemaOf(operation.requestBody?.content);
  if (body !== undefined) {
    const table = fieldTable(document, body);
    lines.push(`Request body (JSON${operation.requestBody.required ? '' : ', optional'}):`, '');
    lines.push(...(table.length > 0 ? table : [`${typeOf(document, body)}`, '']));
  }
  const responses = Object.entries(operation.responses ?? {});
  const success = responses.filter(([status]) => /^[23]/.test(status));
  const failures = responses.filter(([status]) => !/^[23]/.test(status));
  for (const [status, response] of success) {
    lines.push(`**${status}** — ${response.description}`, '');
    for (const [header, spec] of Object.entries(response.headers ?? {})) {
      lines.push(`- header \`${header}\`: ${cell(spec.description ?? '')}`);
    }
    if (Object.keys(response.headers ?? {}).length > 0) {
      lines.push('');
    }
    const schema = jsonSchemaOf(response.content);
    if (schema !== undefined) {
      lines.push(...fieldTable(document, schema));
    }
  }
  if (failures.length > 0) {
    lines.push('| error status | when |', '| --- | --- |');
    for (const [status, response] of failures) {
      lines.push(`| ${status} | ${cell(response.description)} |`);
    }
    lines.push('');
  }
  return lines;
}

/** The page, unformatted: an intro, the error shape, then each tag's operations in path order. */
function renderPage(document) {
  const lines = [
    `# ${document.info.title} reference`,
    '',
    `<!-- Generated from the OpenAPI document by \`${REGENERATE}\`; do not edit. \`npm test\` fails when it is stale. -->`,
    '',
    `Version ${document.info.version}, OpenAPI ${document.openapi}. ${document.info.description}`,
    '',
    'A running pay serves the document itself at `GET /api/v1/openapi.json`.',
    '',
    '## Authentication',
    '',
    document.components.securitySchemes.bearerAuth.description,
    '',
    '## Errors',
    '',
    'Every error answer has this body:',
    '',
    ...fieldTable(document, { $ref: '#/components/schemas/Error' }),
  ];
  const operations = [];
  for (const [route, methods] of Object.entries(document.paths)) {
    for (const method of HTTP_ORDER) {
      if (methods[method] !== undefined) {
        operations.push({ route, method, operation: methods[method] });
      }
    }
  }
  for (const tag of document.tags) {
    const tagged = operations.filter(({ operation }) => (operation.tags ?? [])[0] === tag.name);
    if (tagged.length === 0) {
      continue;
    }
    lines.push(`## ${tag.name}`, '', tag.description, '');
    for (const { route, method } of tagged) {
      lines.push(`- [\`${method.toUpperCase()} ${route}\`](#${anchor(method, route)})`);
    }
    lines.push('');
    for (const { route, method, operation } of tagged) {
      lines.push(...renderOperation(document, method, route, operation));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** GitHub's heading anchor of `### \`METHOD /path\``. */
function anchor(method, route) {
  return `${method} ${route}`
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

async function generate() {
  const { buildOpenApiDocument } = require(path.join(ROOT, 'apps/api/dist/index.js'));
  const prettier = require('prettier');
  const options = (await prettier.resolveConfig(PAGE)) ?? {};
  return prettier.format(renderPage(buildOpenApiDocument()), { ...options, filepath: PAGE });
}

/** Writes the page, or with `check` compares it; returns whether the committed page is current. */
async function apiDocs(check) {
  const page = await generate();
  const current = fs.existsSync(PAGE) ? fs.readFileSync(PAGE, 'utf8') : null;
  if (check) {
    return current === page;
  }
  fs.mkdirSync(path.dirname(PAGE), { recursive: true });
  fs.writeFileSync(PAGE, page);
  return true;
}

module.exports = { renderPage };

if (require.main === module) {
  const check = process.argv.includes('--check');
  const { writeResults } = require('./check-packages.cjs');
  apiDocs(check).then(
    (current) => {
      const relative = path.relative(ROOT, PAGE);
      if (current) {
        process.stdout.write(`ok   ${relative} ${check ? 'matches the OpenAPI document' : 'written'}\n`);
      } else {
        process.stdout.write(`FAIL ${relative} is stale: run \`${REGENERATE}\` and commit it\n`);
      }
      if (check) {
        writeResults('api-docs', current ? 1 : 0, current ? 0 : 1);
      }
      process.exitCode = current ? 0 : 1;
    },
    (error) => {
      process.stdout.write(`FAIL api-docs: ${error instanceof Error ? error.stack : String(error)}\n`);
      if (check) {
        writeResults('api-docs', 0, 1);
      }
      process.exitCode = 1;
    },
  );
}
