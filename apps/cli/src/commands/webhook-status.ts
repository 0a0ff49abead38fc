import { Flags } from '@oclif/core';
import {
  MAX_PAGE_LIMIT,
  WEBHOOK_EVENT_STATUSES,
  type WebhookEvent,
  type WebhookEventStatus,
  type WebhookStatus,
} from '@pay/core';
import { BaseCommand } from '../base-command.js';
import { table } from '../table.js';
import { toListView, type ListView } from '../views.js';

/** The `--json` shape of one inbox event (snake_case, ISO times, like every CLI output). */
export interface WebhookEventView {
  /** pay's id of the inbox row (`whevt_…`): what `--starting-after` takes. */
  id: string;
  stripe_event_id: string;
  type: string;
  status: WebhookEventStatus;
  attempts: number;
  next_attempt: string;
  last_error: string | null;
  /** Stripe's `created`. */
  created: string;
  received: string;
  processed: string | null;
}

/** The `--json` shape of `pay webhook-status`: counts by status, the oldest pending event, the lag. */
export interface WebhookStatusView {
  counts: Record<WebhookEventStatus, number>;
  oldest_pending: { stripe_event_id: string; type: string; created: string; received: string } | null;
  /** Seconds the oldest pending event has waited since Stripe created it; null when none is pending. */
  lag_seconds: number | null;
}

/** The one inbox row as the CLI shows it. */
export function toWebhookEventView(event: WebhookEvent): WebhookEventView {
  return {
    id: event.id,
    stripe_event_id: event.stripeEventId,
    type: event.type,
    status: event.status,
    attempts: event.attempts,
    next_attempt: event.nextAttemptAt.toISOString(),
    last_error: event.lastError,
    created: event.stripeCreatedAt.toISOString(),
    received: event.receivedAt.toISOString(),
    processed: event.processedAt?.toISOString() ?? null,
  };
}

function toStatusView(status: WebhookStatus): WebhookStatusView {
  const oldest = status.oldestPending;
  return {
    counts: { ...status.counts },
    oldest_pending:
      oldest === null
        ? null
        : {
            stripe_event_id: oldest.stripeEventId,
            type: oldest.type,
            created: oldest.stripeCreatedAt.toISOString(),
            received: oldest.receivedAt.toISOString(),
          },
    lag_seconds: status.lagSeconds,
  };
}

const LISTED = ['pending', 'failed', 'dead'] as const;
type Listed = (typeof LISTED)[number];

export default class WebhookStatusCommand extends BaseCommand<
  WebhookStatusView | ListView<WebhookEventView>
> {
  static override description =
    "Show pay's webhook inbox: how many events are in each status, the oldest one still pending and how " +
    'long it has waited since Stripe created it. With --pending, --failed or --dead, list those events ' +
    '(Stripe event id, type, attempts, next attempt, last error) instead; `pay webhooks replay` re-queues them.';

  static override examples = [
    '<%= config.bin %> webhook-status',
    '<%= config.bin %> webhook-status --dead',
    '<%= config.bin %> webhook-status --failed --json',
  ];

  static override flags = {
    pending: Flags.boolean({
      description: 'List the events waiting for their first attempt',
      exclusive: ['failed', 'dead'],
    }),
    failed: Flags.boolean({
      description: 'List the events waiting for a retry',
      exclusive: ['pending', 'dead'],
    }),
    dead: Flags.boolean({
      description: 'List the events that failed every attempt',
      exclusive: ['pending', 'failed'],
    }),
    limit: Flags.integer({
      min: 1,
      max: MAX_PAGE_LIMIT,
      default: MAX_PAGE_LIMIT,
      description: 'Events per page (with --pending, --failed or --dead)',
    }),
    'starting-after': Flags.string({ description: 'The last id (whevt_…) of the previous page' }),
  };

  async run(): Promise<WebhookStatusView | ListView<WebhookEventView>> {
    const { flags } = await this.parse(WebhookStatusCommand);
    const webhooks = (await this.pay()).services.webhooks;
    const listed = LISTED.find((status: Listed) => flags[status]);
    if (listed !== undefined) {
      const page = await webhooks.list(listed, {
        limit: flags.limit,
        startingAfter: flags['starting-after'],
      });
      this.printEvents(listed, page.data);
      const last = page.data.at(-1);
      if (page.hasMore && last !== undefined) {
        this.logToStderr(`More events follow: add --starting-after ${last.id}`);
      }
      return toListView(page, toWebhookEventView);
    }
    const view = toStatusView(await webhooks.status());
    for (const line of describeStatus(view)) {
      this.log(line);
    }
    return view;
  }

  private printEvents(status: Listed, events: readonly WebhookEvent[]): void {
    if (events.length === 0) {
      this.log(`No ${status} webhook events.`);
      return;
    }
    const rows = events.map((e) => [
      e.stripeEventId,
      e.type,
      String(e.attempts),
      e.status === 'dead' ? '-' : e.nextAttemptAt.toISOString(),
      oneLine(e.lastError ?? ''),
    ]);
    for (const line of table(['STRIPE EVENT', 'TYPE', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST ERROR'], rows)) {
      this.log(line);
    }
  }
}

/** The human status: one line per status (in the inbox's order), then the oldest pending event and the lag. */
function describeStatus(view: WebhookStatusView): string[] {
  const lines = WEBHOOK_EVENT_STATUSES.map((status) => `${`${status}:`.padEnd(11)} ${view.counts[status]}`);
  const oldest = view.oldest_pending;
  lines.push(
    oldest === null
      ? 'oldest pending: none'
      : `oldest pending: ${oldest.stripe_event_id} (${oldest.type}), created ${oldest.created}, received ${oldest.received}`,
  );
  lines.push(`lag:        ${view.lag_seconds === null ? '-' : `${Math.round(view.lag_seconds)} s`}`);
  return lines;
}

/** An error message on one table line: its first line, at most 80 characters. */
function oneLine(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first.length > 80 ? `${first.slice(0, 79)}…` : first;
}
