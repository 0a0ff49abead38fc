CREATE TABLE "pay"."disputes" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"payment_id" text NOT NULL,
	"stripe_dispute_id" text NOT NULL,
	"stripe_charge_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"reason" text NOT NULL,
	"status" text NOT NULL,
	"stripe_created_at" timestamp with time zone NOT NULL,
	"stripe_updated_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "disputes_stripe_dispute_id_unique" UNIQUE("stripe_dispute_id"),
	CONSTRAINT "disputes_account_id_id_unique" UNIQUE("account_id","id"),
	CONSTRAINT "disputes_status_check" CHECK ("pay"."disputes"."status" IN ('warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response', 'under_review', 'won', 'lost', 'appeal_needs_response', 'appeal_under_review', 'prevented')),
	CONSTRAINT "disputes_amount_check" CHECK ("pay"."disputes"."amount" > 0),
	CONSTRAINT "disputes_currency_check" CHECK ("pay"."disputes"."currency" ~ '^[a-z]{3}$')
);
--> statement-breakpoint
ALTER TABLE "pay"."disputes" ADD CONSTRAINT "disputes_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."disputes" ADD CONSTRAINT "disputes_payment_fk" FOREIGN KEY ("account_id","payment_id") REFERENCES "pay"."payments"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "disputes_payment_id_idx" ON "pay"."disputes" USING btree ("payment_id");--> statement-breakpoint
CREATE INDEX "webhook_events_status_id_idx" ON "pay"."webhook_events" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "webhook_events_pending_created_idx" ON "pay"."webhook_events" USING btree ("stripe_created_at") WHERE "pay"."webhook_events"."status" = 'pending';--> statement-breakpoint
-- Disputes are upserted as Stripe reports them; the audit log, not this table, is the history.
GRANT SELECT, INSERT, UPDATE, DELETE ON "pay"."disputes" TO pay_service;
