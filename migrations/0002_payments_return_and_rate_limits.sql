CREATE TABLE "pay"."rate_limit_buckets" (
	"bucket" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"hits" integer NOT NULL,
	CONSTRAINT "rate_limit_buckets_pkey" PRIMARY KEY("bucket","window_start"),
	CONSTRAINT "rate_limit_buckets_hits_check" CHECK ("pay"."rate_limit_buckets"."hits" > 0)
);
--> statement-breakpoint
ALTER TABLE "pay"."idempotency_keys" ADD COLUMN "request_params" jsonb;--> statement-breakpoint
ALTER TABLE "pay"."payments" ADD COLUMN "return_url" text;--> statement-breakpoint
ALTER TABLE "pay"."payments" ADD COLUMN "next_action_url" text;--> statement-breakpoint
CREATE INDEX "rate_limit_buckets_window_start_idx" ON "pay"."rate_limit_buckets" USING btree ("window_start");--> statement-breakpoint
CREATE INDEX "payments_account_id_customer_id_id_idx" ON "pay"."payments" USING btree ("account_id","customer_id","id");--> statement-breakpoint
CREATE INDEX "payments_in_flight_idx" ON "pay"."payments" USING btree ("created_at") WHERE "pay"."payments"."status" IN ('pending', 'requires_action', 'processing');--> statement-breakpoint
-- Counters are rewritten on every request and swept by age.
GRANT SELECT, INSERT, UPDATE, DELETE ON "pay"."rate_limit_buckets" TO pay_service;
