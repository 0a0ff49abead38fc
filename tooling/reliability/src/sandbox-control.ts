import { z } from 'zod';

/*
 * The sandbox's control plane (`/_sandbox/*`) read over HTTP, parsed at this edge: the checkers and the
 * battery see the same ledger whether the sandbox runs in their process or another.
 */

const ZLedgerObject = z.object({
  kind: z.enum(['customer', 'payment_method', 'payment_intent', 'charge', 'refund', 'dispute']),
  id: z.string(),
  account: z.string(),
  created: z.number(),
  requestId: z.string().nullable(),
});
/** One object the sandbox created (`GET /_sandbox/ledger`). */
export type SandboxLedgerObject = z.infer<typeof ZLedgerObject>;
export type SandboxLedgerKind = SandboxLedgerObject['kind'];

const ZRequestLogEntry = z.object({
  requestId: z.string(),
  at: z.number(),
  account: z.string().nullable(),
  method: z.string(),
  path: z.string(),
  route: z.string().nullable(),
  params: z.record(z.string(), z.unknown()).nullable(),
  idempotencyKey: z.string().nullable(),
  status: z.number().int(),
  replayed: z.boolean(),
  faults: z.array(z.string()),
  durationMs: z.number(),
});
/** One API call the sandbox received (`GET /_sandbox/requests`). */
export type SandboxRequest = z.infer<typeof ZRequestLogEntry>;

const ZLedger = z.object({ data: z.array(ZLedgerObject) });
const ZRequests = z.object({ data: z.array(ZRequestLogEntry) });

/** What `GET /_sandbox/requests` filters on. */
export interface SandboxRequestFilter {
  readonly method?: string;
  readonly path?: string;
  readonly account?: string;
  readonly idempotencyKey?: string;
}

async function getJson<T>(baseUrl: string, path: string, schema: z.ZodType<T>): Promise<T> {
  const url = new URL(path, baseUrl);
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`GET ${url.pathname}${url.search} answered ${res.status}: ${text.slice(0, 500)}`);
  }
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`GET ${url.pathname} answered an unexpected body: ${parsed.error.message}`);
  }
  return parsed.data;
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) {
      search.set(key, value);
    }
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** The objects the sandbox created, optionally of one kind and in one account. */
export async function readSandboxLedger(
  baseUrl: string,
  filter: { readonly kind?: SandboxLedgerKind; readonly account?: string } = {},
): Promise<SandboxLedgerObject[]> {
  const body = await getJson(
    baseUrl,
    `/_sandbox/ledger${query({ kind: filter.kind, account: filter.account })}`,
    ZLedger,
  );
  return body.data;
}

/** The API calls the sandbox received (the newest ones it keeps), filtered as the control plane does. */
export async function readSandboxRequests(
  baseUrl: string,
  filter: SandboxRequestFilter = {},
): Promise<SandboxRequest[]> {
  const body = await getJson(
    baseUrl,
    `/_sandbox/requests${query({
      method: filter.method,
      path: filter.path,
      account: filter.account,
      idempotency_key: filter.idempotencyKey,
    })}`,
    ZRequests,
  );
  return body.data;
}
