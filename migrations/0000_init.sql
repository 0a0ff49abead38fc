CREATE SCHEMA IF NOT EXISTS "pay";
--> statement-breakpoint
CREATE TABLE "pay"."accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pay"."api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"key_hash" text NOT NULL,
	"key_prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash"),
	CONSTRAINT "api_keys_role_check" CHECK ("pay"."api_keys"."role" IN ('service', 'admin'))
);
--> statement-breakpoint
CREATE TABLE "pay"."audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text,
	"actor_type" text NOT NULL,
	"actor_id" text NOT NULL,
	"action" text NOT NULL,
	"target_type" text,
	"target_id" text,
	"amount" bigint,
	"currency" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_log_actor_type_check" CHECK ("pay"."audit_log"."actor_type" IN ('api_key', 'cli_operator', 'system')),
	CONSTRAINT "audit_log_amount_check" CHECK ("pay"."audit_log"."amount" >= 0),
	CONSTRAINT "audit_log_currency_check" CHECK ("pay"."audit_log"."currency" ~ '^[a-z]{3}$'),
	CONSTRAINT "audit_log_money_check" CHECK (("pay"."audit_log"."amount" IS NULL) = ("pay"."audit_log"."currency" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "pay"."customers" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"user_id" text NOT NULL,
	"email" text,
	"stripe_customer_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_stripe_customer_id_unique" UNIQUE("stripe_customer_id"),
	CONSTRAINT "customers_account_id_user_id_unique" UNIQUE("account_id","user_id"),
	CONSTRAINT "customers_account_id_id_unique" UNIQUE("account_id","id"),
	CONSTRAINT "customers_user_id_check" CHECK (length("pay"."customers"."user_id") BETWEEN 1 AND 255)
);
--> statement-breakpoint
CREATE TABLE "pay"."payment_methods" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"stripe_payment_method_id" text NOT NULL,
	"brand" text NOT NULL,
	"last4" text NOT NULL,
	"exp_month" integer NOT NULL,
	"exp_year" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_methods_stripe_payment_method_id_unique" UNIQUE("stripe_payment_method_id"),
	CONSTRAINT "payment_methods_account_id_id_unique" UNIQUE("account_id","id"),
	CONSTRAINT "payment_methods_last4_check" CHECK ("pay"."payment_methods"."last4" ~ '^[0-9]{4}$'),
	CONSTRAINT "payment_methods_exp_month_check" CHECK ("pay"."payment_methods"."exp_month" BETWEEN 1 AND 12),
	CONSTRAINT "payment_methods_exp_year_check" CHECK ("pay"."payment_methods"."exp_year" BETWEEN 2000 AND 2200)
);
--> statement-breakpoint
CREATE TABLE "pay"."idempotency_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"key" text NOT NULL,
	"request_method" text NOT NULL,
	"request_path" text NOT NULL,
	"params_hash" text NOT NULL,
	"locked_at" timestamp with time zone,
	"recovery_point" text DEFAULT 'started' NOT NULL,
	"response_status" integer,
	"response_body" jsonb,
	"resource_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_run_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_account_id_key_unique" UNIQUE("account_id","key"),
	CONSTRAINT "idempotency_keys_key_check" CHECK (length("pay"."idempotency_keys"."key") BETWEEN 1 AND 255),
	CONSTRAINT "idempotency_keys_response_status_check" CHECK ("pay"."idempotency_keys"."response_status" BETWEEN 100 AND 599)
);
--> statement-breakpoint
CREATE TABLE "pay"."payment_events" (
	"id" text PRIMARY KEY NOT NULL,
	"payment_id" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "pay"."payment_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account_id" text NOT NULL,
	"amount" bigint DEFAULT 0 NOT NULL,
	"cause_request_id" text,
	"cause_stripe_event_id" text,
	"cause_refund_id" text,
	"cause_payment_id" text,
	"cause_job" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_events_from_status_check" CHECK ("pay"."payment_events"."from_status" IN ('pending', 'requires_action', 'processing', 'succeeded', 'failed', 'canceled', 'partially_refunded', 'refunded')),
	CONSTRAINT "payment_events_to_status_check" CHECK ("pay"."payment_events"."to_status" IN ('pending', 'requires_action', 'processing', 'succeeded', 'failed', 'canceled', 'partially_refunded', 'refunded')),
	CONSTRAINT "payment_events_amount_check" CHECK ("pay"."payment_events"."amount" >= 0),
	CONSTRAINT "payment_events_cause_check" CHECK (num_nonnulls("pay"."payment_events"."cause_request_id", "pay"."payment_events"."cause_stripe_event_id", "pay"."payment_events"."cause_refund_id", "pay"."payment_events"."cause_payment_id", "pay"."payment_events"."cause_job") >= 1)
);
--> statement-breakpoint
CREATE TABLE "pay"."refund_events" (
	"id" text PRIMARY KEY NOT NULL,
	"refund_id" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "pay"."refund_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account_id" text NOT NULL,
	"amount" bigint DEFAULT 0 NOT NULL,
	"cause_request_id" text,
	"cause_stripe_event_id" text,
	"cause_refund_id" text,
	"cause_payment_id" text,
	"cause_job" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refund_events_from_status_check" CHECK ("pay"."refund_events"."from_status" IN ('requires_approval', 'pending', 'succeeded', 'failed', 'canceled')),
	CONSTRAINT "refund_events_to_status_check" CHECK ("pay"."refund_events"."to_status" IN ('requires_approval', 'pending', 'succeeded', 'failed', 'canceled')),
	CONSTRAINT "refund_events_amount_check" CHECK ("pay"."refund_events"."amount" >= 0),
	CONSTRAINT "refund_events_cause_check" CHECK (num_nonnulls("pay"."refund_events"."cause_request_id", "pay"."refund_events"."cause_stripe_event_id", "pay"."refund_events"."cause_refund_id", "pay"."refund_events"."cause_payment_id", "pay"."refund_events"."cause_job") >= 1)
);
--> statement-breakpoint
CREATE TABLE "pay"."subscription_events" (
	"id" text PRIMARY KEY NOT NULL,
	"subscription_id" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "pay"."subscription_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"account_id" text NOT NULL,
	"amount" bigint DEFAULT 0 NOT NULL,
	"cause_request_id" text,
	"cause_stripe_event_id" text,
	"cause_refund_id" text,
	"cause_payment_id" text,
	"cause_job" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subscription_events_from_status_check" CHECK ("pay"."subscription_events"."from_status" IN ('incomplete', 'active', 'past_due', 'canceled', 'expired')),
	CONSTRAINT "subscription_events_to_status_check" CHECK ("pay"."subscription_events"."to_status" IN ('incomplete', 'active', 'past_due', 'canceled', 'expired')),
	CONSTRAINT "subscription_events_amount_check" CHECK ("pay"."subscription_events"."amount" >= 0),
	CONSTRAINT "subscription_events_cause_check" CHECK (num_nonnulls("pay"."subscription_events"."cause_request_id", "pay"."subscription_events"."cause_stripe_event_id", "pay"."subscription_events"."cause_refund_id", "pay"."subscription_events"."cause_payment_id", "pay"."subscription_events"."cause_job") >= 1)
);
--> statement-breakpoint
CREATE TABLE "pay"."payments" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"payment_method_id" text,
	"plan_id" text,
	"subscription_id" text,
	"billing_reason" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"amount_refunded" bigint DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"stripe_payment_intent_id" text,
	"stripe_idempotency_key" text NOT NULL,
	"failure_code" text,
	"decline_code" text,
	"failure_message" text,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payments_stripe_payment_intent_id_unique" UNIQUE("stripe_payment_intent_id"),
	CONSTRAINT "payments_stripe_idempotency_key_unique" UNIQUE("stripe_idempotency_key"),
	CONSTRAINT "payments_account_id_id_unique" UNIQUE("account_id","id"),
	CONSTRAINT "payments_status_check" CHECK ("pay"."payments"."status" IN ('pending', 'requires_action', 'processing', 'succeeded', 'failed', 'canceled', 'partially_refunded', 'refunded')),
	CONSTRAINT "payments_billing_reason_check" CHECK ("pay"."payments"."billing_reason" IN ('manual', 'subscription_create', 'subscription_cycle')),
	CONSTRAINT "payments_amount_check" CHECK ("pay"."payments"."amount" > 0),
	CONSTRAINT "payments_currency_check" CHECK ("pay"."payments"."currency" ~ '^[a-z]{3}$'),
	CONSTRAINT "payments_amount_refunded_check" CHECK ("pay"."payments"."amount_refunded" BETWEEN 0 AND "pay"."payments"."amount")
);
--> statement-breakpoint
CREATE TABLE "pay"."plans" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"interval" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plans_account_id_id_unique" UNIQUE("account_id","id"),
	CONSTRAINT "plans_amount_check" CHECK ("pay"."plans"."amount" > 0),
	CONSTRAINT "plans_currency_check" CHECK ("pay"."plans"."currency" ~ '^[a-z]{3}$'),
	CONSTRAINT "plans_interval_check" CHECK ("pay"."plans"."interval" IN ('month', 'year'))
);
--> statement-breakpoint
CREATE TABLE "pay"."refunds" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"payment_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"origin" text NOT NULL,
	"stripe_refund_id" text,
	"stripe_idempotency_key" text,
	"requested_by" text,
	"approved_by" text,
	"failure_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "refunds_stripe_refund_id_unique" UNIQUE("stripe_refund_id"),
	CONSTRAINT "refunds_stripe_idempotency_key_unique" UNIQUE("stripe_idempotency_key"),
	CONSTRAINT "refunds_account_id_id_unique" UNIQUE("account_id","id"),
	CONSTRAINT "refunds_status_check" CHECK ("pay"."refunds"."status" IN ('requires_approval', 'pending', 'succeeded', 'failed', 'canceled')),
	CONSTRAINT "refunds_origin_check" CHECK ("pay"."refunds"."origin" IN ('pay', 'stripe')),
	CONSTRAINT "refunds_amount_check" CHECK ("pay"."refunds"."amount" > 0),
	CONSTRAINT "refunds_currency_check" CHECK ("pay"."refunds"."currency" ~ '^[a-z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "pay"."subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"plan_id" text NOT NULL,
	"payment_method_id" text,
	"status" text NOT NULL,
	"current_period_start" timestamp with time zone NOT NULL,
	"current_period_end" timestamp with time zone NOT NULL,
	"next_billing_at" timestamp with time zone,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"canceled_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"dunning_attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subscriptions_account_id_id_unique" UNIQUE("account_id","id"),
	CONSTRAINT "subscriptions_status_check" CHECK ("pay"."subscriptions"."status" IN ('incomplete', 'active', 'past_due', 'canceled', 'expired')),
	CONSTRAINT "subscriptions_period_check" CHECK ("pay"."subscriptions"."current_period_end" > "pay"."subscriptions"."current_period_start"),
	CONSTRAINT "subscriptions_dunning_attempts_check" CHECK ("pay"."subscriptions"."dunning_attempts" >= 0)
);
--> statement-breakpoint
CREATE TABLE "pay"."webhook_events" (
	"id" text PRIMARY KEY NOT NULL,
	"stripe_event_id" text NOT NULL,
	"type" text NOT NULL,
	"api_version" text,
	"livemode" boolean NOT NULL,
	"object_id" text,
	"payload" text NOT NULL,
	"signature_verified" boolean NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"stripe_created_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	CONSTRAINT "webhook_events_stripe_event_id_unique" UNIQUE("stripe_event_id"),
	CONSTRAINT "webhook_events_status_check" CHECK ("pay"."webhook_events"."status" IN ('pending', 'processed', 'failed', 'dead', 'ignored')),
	CONSTRAINT "webhook_events_attempts_check" CHECK ("pay"."webhook_events"."attempts" >= 0)
);
--> statement-breakpoint
ALTER TABLE "pay"."api_keys" ADD CONSTRAINT "api_keys_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."audit_log" ADD CONSTRAINT "audit_log_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."customers" ADD CONSTRAINT "customers_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payment_methods" ADD CONSTRAINT "payment_methods_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payment_methods" ADD CONSTRAINT "payment_methods_customer_fk" FOREIGN KEY ("account_id","customer_id") REFERENCES "pay"."customers"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."idempotency_keys" ADD CONSTRAINT "idempotency_keys_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payment_events" ADD CONSTRAINT "payment_events_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payment_events" ADD CONSTRAINT "payment_events_cause_refund_id_refunds_id_fk" FOREIGN KEY ("cause_refund_id") REFERENCES "pay"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payment_events" ADD CONSTRAINT "payment_events_cause_payment_id_payments_id_fk" FOREIGN KEY ("cause_payment_id") REFERENCES "pay"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payment_events" ADD CONSTRAINT "payment_events_payment_fk" FOREIGN KEY ("account_id","payment_id") REFERENCES "pay"."payments"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."refund_events" ADD CONSTRAINT "refund_events_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."refund_events" ADD CONSTRAINT "refund_events_cause_refund_id_refunds_id_fk" FOREIGN KEY ("cause_refund_id") REFERENCES "pay"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."refund_events" ADD CONSTRAINT "refund_events_cause_payment_id_payments_id_fk" FOREIGN KEY ("cause_payment_id") REFERENCES "pay"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."refund_events" ADD CONSTRAINT "refund_events_refund_fk" FOREIGN KEY ("account_id","refund_id") REFERENCES "pay"."refunds"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."subscription_events" ADD CONSTRAINT "subscription_events_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."subscription_events" ADD CONSTRAINT "subscription_events_cause_refund_id_refunds_id_fk" FOREIGN KEY ("cause_refund_id") REFERENCES "pay"."refunds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."subscription_events" ADD CONSTRAINT "subscription_events_cause_payment_id_payments_id_fk" FOREIGN KEY ("cause_payment_id") REFERENCES "pay"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."subscription_events" ADD CONSTRAINT "subscription_events_subscription_fk" FOREIGN KEY ("account_id","subscription_id") REFERENCES "pay"."subscriptions"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payments" ADD CONSTRAINT "payments_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payments" ADD CONSTRAINT "payments_customer_fk" FOREIGN KEY ("account_id","customer_id") REFERENCES "pay"."customers"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payments" ADD CONSTRAINT "payments_payment_method_fk" FOREIGN KEY ("account_id","payment_method_id") REFERENCES "pay"."payment_methods"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payments" ADD CONSTRAINT "payments_plan_fk" FOREIGN KEY ("account_id","plan_id") REFERENCES "pay"."plans"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."payments" ADD CONSTRAINT "payments_subscription_fk" FOREIGN KEY ("account_id","subscription_id") REFERENCES "pay"."subscriptions"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."plans" ADD CONSTRAINT "plans_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."refunds" ADD CONSTRAINT "refunds_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."refunds" ADD CONSTRAINT "refunds_payment_fk" FOREIGN KEY ("account_id","payment_id") REFERENCES "pay"."payments"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."subscriptions" ADD CONSTRAINT "subscriptions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "pay"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."subscriptions" ADD CONSTRAINT "subscriptions_customer_fk" FOREIGN KEY ("account_id","customer_id") REFERENCES "pay"."customers"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."subscriptions" ADD CONSTRAINT "subscriptions_plan_fk" FOREIGN KEY ("account_id","plan_id") REFERENCES "pay"."plans"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pay"."subscriptions" ADD CONSTRAINT "subscriptions_payment_method_fk" FOREIGN KEY ("account_id","payment_method_id") REFERENCES "pay"."payment_methods"("account_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_account_id_id_idx" ON "pay"."api_keys" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "audit_log_account_id_id_idx" ON "pay"."audit_log" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "payment_methods_account_id_customer_id_idx" ON "pay"."payment_methods" USING btree ("account_id","customer_id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_at_idx" ON "pay"."idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "payment_events_payment_id_seq_idx" ON "pay"."payment_events" USING btree ("payment_id","seq");--> statement-breakpoint
CREATE INDEX "refund_events_refund_id_seq_idx" ON "pay"."refund_events" USING btree ("refund_id","seq");--> statement-breakpoint
CREATE INDEX "subscription_events_subscription_id_seq_idx" ON "pay"."subscription_events" USING btree ("subscription_id","seq");--> statement-breakpoint
CREATE INDEX "refunds_payment_id_idx" ON "pay"."refunds" USING btree ("payment_id");--> statement-breakpoint
CREATE INDEX "subscriptions_next_billing_at_idx" ON "pay"."subscriptions" USING btree ("next_billing_at") WHERE "pay"."subscriptions"."status" IN ('active', 'past_due');--> statement-breakpoint
CREATE INDEX "webhook_events_due_idx" ON "pay"."webhook_events" USING btree ("next_attempt_at") WHERE "pay"."webhook_events"."status" IN ('pending', 'failed');