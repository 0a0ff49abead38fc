import { Args, Flags } from '@oclif/core';
import { ValidationError } from '@pay/core';
import { BaseCommand } from '../../base-command.js';
import { toWebhookEventView, type WebhookEventView } from '../webhook-status.js';

/** The `--json` shape of `pay webhooks replay`: how many events were re-queued, and which when one was named. */
export interface WebhookReplayView {
  replayed: number;
  event: WebhookEventView | null;
}

// Stripe's event ids: `evt_` and its id alphabet.
const STRIPE_EVENT_ID = /^evt_[A-Za-z0-9_]+$/;

export default class WebhooksReplay extends BaseCommand<WebhookReplayView> {
  static override description =
    'Re-queue a webhook event, due now, whatever its status: the next worker pass applies it again (its ' +
    'effects are idempotent, so an event already applied changes nothing). With --dead, re-queue every dead ' +
    'event. Exits 0 when done (also when --dead found none), 2 with `not_found` for an event pay never ' +
    'received.';

  static override examples = [
    '<%= config.bin %> webhooks replay evt_1NqR…',
    '<%= config.bin %> webhooks replay --dead',
  ];

  static override args = {
    event: Args.string({ required: false, description: 'Stripe event id (evt_…)' }),
  };

  static override flags = {
    dead: Flags.boolean({ description: 'Re-queue every dead event instead of one' }),
  };

  async run(): Promise<WebhookReplayView> {
    const { args, flags } = await this.parse(WebhooksReplay);
    // An unset boolean flag is undefined, not false.
    if ((flags.dead === true) === (args.event !== undefined)) {
      throw new ValidationError('Name one Stripe event id (evt_…), or pass --dead, not both.');
    }
    if (args.event === undefined) {
      const replayed = await (await this.pay()).services.webhooks.replayDead();
      this.log(
        replayed === 0
          ? 'Nothing to replay: no webhook event is dead.'
          : replayed === 1
            ? 'Re-queued 1 dead webhook event; the workers apply it next.'
            : `Re-queued ${replayed} dead webhook events; the workers apply them next.`,
      );
      return { replayed, event: null };
    }
    if (!STRIPE_EVENT_ID.test(args.event)) {
      throw new ValidationError('Expected a Stripe event id (evt_…).', { param: 'event' });
    }
    const event = await (await this.pay()).services.webhooks.replay(args.event);
    this.log(`Re-queued ${event.stripeEventId} (${event.type}); the workers apply it next.`);
    return { replayed: 1, event: toWebhookEventView(event) };
  }
}
