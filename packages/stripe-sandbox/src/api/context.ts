import type { SandboxCore } from '../core.js';
import type { FaultTarget, ProcessingFault } from '../faults/api-faults.js';
import type { LedgerKind } from '../ledger.js';
import { newEvent, type EventType } from '../objects/event.js';
import type { Account } from '../store/account.js';
import type { SandboxEvent } from '../webhooks/hub.js';
import type { JsonObject } from '../errors.js';

/**
 * What a handler works with while it executes: the account, the request that caused the work (null for
 * automatic work such as an asynchronous capture settling), the time, and the events it emits. Handlers
 * run synchronously, so their state changes and the stored response commit as one step; events are
 * stored at once and handed to the webhook hub only after that commit ({@link publish}).
 */
export class ExecContext {
  /** Unix seconds on the sandbox clock, fixed for the whole execution. */
  readonly now: number;
  /** Kinds of the faults taken during execution, for the request log. */
  readonly faultsTaken: string[] = [];
  private readonly emitted: SandboxEvent[] = [];

  constructor(
    readonly core: SandboxCore,
    readonly account: Account,
    readonly requestId: string | null,
    readonly idempotencyKey: string | null,
    /** The API request faults are matched against; null for automatic and control-plane work. */
    private readonly faultTarget: FaultTarget | null = null,
  ) {
    this.now = core.clock.nowSeconds();
  }

  /**
   * Consumes a `processing` fault matching the request. Called at the charge step only, so a confirmation
   * that stops earlier (a 400, 3-D Secure) leaves the fault's `times` alone.
   */
  takeProcessingFault(): ProcessingFault | undefined {
    if (this.faultTarget === null || this.core.faults.size === 0) {
      return undefined;
    }
    const fault = this.core.faults.take('processing', this.faultTarget);
    if (fault !== undefined) {
      this.faultsTaken.push(fault.kind);
    }
    return fault;
  }

  /** Creates and stores an event; `previousAttributes` only for `*.updated` types. */
  emit(type: EventType, object: object, previousAttributes?: JsonObject): void {
    const event = newEvent({
      type,
      object,
      ...(previousAttributes === undefined ? {} : { previousAttributes }),
      created: this.now,
      apiVersion: this.account.apiVersion,
      requestId: this.requestId,
      idempotencyKey: this.idempotencyKey,
    });
    this.account.events.insert(event.id, event);
    this.emitted.push(event);
  }

  /** Records an object in the ledger. */
  created(kind: LedgerKind, id: string): void {
    this.core.ledger.recordObject({
      kind,
      id,
      account: this.account.id,
      created: this.now,
      requestId: this.requestId,
    });
  }

  /** Hands the emitted events to the webhook hub; called once the response is stored. */
  publish(): void {
    for (const event of this.emitted) {
      this.core.hub.publish(this.account.id, event);
    }
    this.emitted.length = 0;
  }
}
