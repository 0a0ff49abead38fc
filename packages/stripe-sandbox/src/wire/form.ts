/*
 * Decoding of Stripe's v1 form encoding (SANDBOX.md §3.3), after stripe-mock's "Rack-style" parser:
 * ordered pairs, `a[b]=c` hashes, `a[]=x` and `a[0]=x` arrays, values kept as strings (each endpoint
 * coerces). Hashes are null-prototype objects so that a key such as `__proto__` is data, not a prototype.
 */

/** A decoded value: a string leaf, an array, or a hash. */
export type FormValue = string | FormValue[] | FormHash;
export interface FormHash {
  [key: string]: FormValue;
}

/** The body or query string is not valid form encoding; the API answers 400 `invalid_request_error`. */
export class FormDecodeError extends Error {
  override readonly name = 'FormDecodeError';
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

type Node = string | HashNode | ArrayNode;
interface HashNode {
  kind: 'hash';
  entries: Map<string, Node>;
}
interface ArrayNode {
  kind: 'array';
  items: Map<number, Node>;
}

function decodeComponent(raw: string): string {
  // Fast path: most keys and many values need no decoding at all.
  if (!raw.includes('%') && !raw.includes('+')) {
    return raw;
  }
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new FormDecodeError(`Invalid URL encoding: ${raw}`);
  }
}

/** Splits `a[b][0][]` into `['a', 'b', '0', '']`. */
function parseKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open === -1) {
    return [key];
  }
  const parts = [key.slice(0, open)];
  let i = open;
  while (i < key.length) {
    if (key[i] !== '[') {
      throw new FormDecodeError(`Invalid parameter name: ${key}`, key);
    }
    const close = key.indexOf(']', i);
    if (close === -1) {
      throw new FormDecodeError(`Invalid parameter name: ${key}`, key);
    }
    parts.push(key.slice(i + 1, close));
    i = close + 1;
  }
  return parts;
}

const INDEX = /^\d+$/;

function childFor(segment: string): HashNode | ArrayNode {
  return segment === '' || INDEX.test(segment)
    ? { kind: 'array', items: new Map() }
    : { kind: 'hash', entries: new Map() };
}

function insert(
  container: HashNode | ArrayNode,
  path: string[],
  depth: number,
  value: string,
  key: string,
): void {
  const segment = path[depth] ?? '';
  const last = depth === path.length - 1;
  let slot = 0;
  const get = (): Node | undefined =>
    container.kind === 'hash' ? container.entries.get(segment) : container.items.get(slot);
  const set = (node: Node): void => {
    if (container.kind === 'hash') {
      container.entries.set(segment, node);
    } else {
      container.items.set(slot, node);
    }
  };
  if (container.kind === 'array') {
    if (segment === '') {
      // `a[]=x` always appends (the SDK sends indices; `[]` is for curl users).
      slot = container.items.size === 0 ? 0 : Math.max(...container.items.keys()) + 1;
    } else if (INDEX.test(segment)) {
      slot = Number(segment);
    } else {
      throw new FormDecodeError(`Invalid array index in ${key}`, key);
    }
  }
  const existing = get();
  if (last) {
    if (existing !== undefined && typeof existing !== 'string') {
      throw new FormDecodeError(`Invalid value for ${key}: it is also sent as a hash or an array`, key);
    }
    set(value); // a repeated scalar key: the last one wins
    return;
  }
  const next = path[depth + 1] ?? '';
  const wanted = childFor(next);
  if (existing === undefined) {
    set(wanted);
    insert(wanted, path, depth + 1, value, key);
    return;
  }
  if (typeof existing === 'string' || existing.kind !== wanted.kind) {
    throw new FormDecodeError(`Invalid value for ${key}: mixed types for one parameter`, key);
  }
  insert(existing, path, depth + 1, value, key);
}

function finalize(node: Node, name: string): FormValue {
  if (typeof node === 'string') {
    return node;
  }
  if (node.kind === 'hash') {
    const out: FormHash = Object.create(null) as FormHash;
    for (const [k, v] of node.entries) {
      out[k] = finalize(v, `${name}[${k}]`);
    }
    return out;
  }
  const indices = [...node.items.keys()].sort((a, b) => a - b);
  return indices.map((index, position) => {
    if (index !== position) {
      throw new FormDecodeError(`Invalid array: ${name} has no element at index ${position}`, name);
    }
    return finalize(node.items.get(index) ?? '', `${name}[${index}]`);
  });
}

/** Decodes a form body or query string into a tree of hashes, arrays and strings. */
export function decodeForm(input: string): FormHash {
  const root: HashNode = { kind: 'hash', entries: new Map() };
  if (input.length === 0) {
    return Object.create(null) as FormHash;
  }
  for (const pair of input.split('&')) {
    if (pair === '') {
      continue;
    }
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    const path = parseKey(key);
    if (path[0] === '') {
      throw new FormDecodeError(`Invalid parameter name: ${key}`, key);
    }
    insert(root, path, 0, value, key);
  }
  return finalize(root, '') as FormHash;
}
