-- pay_service: the role the API and workers run as (connectPostgres(url, { serviceRole: true })).
-- It may read and write the mutable tables but only append to the ledger and the audit log, so not
-- even a bug in pay can rewrite history (DESIGN.md §2.5). Deployments GRANT pay_service TO the login
-- user they connect with. Roles are cluster-wide, so several databases (and several migrators at
-- once) may try to create it: "already exists" is success.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pay_service') THEN
    CREATE ROLE pay_service NOLOGIN;
  END IF;
EXCEPTION
  -- A concurrent CREATE ROLE surfaces as duplicate_object, or as unique_violation on pg_authid.
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA "pay" TO pay_service;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON
  "pay"."accounts",
  "pay"."api_keys",
  "pay"."customers",
  "pay"."payment_methods",
  "pay"."plans",
  "pay"."payments",
  "pay"."subscriptions",
  "pay"."refunds",
  "pay"."webhook_events",
  "pay"."idempotency_keys"
TO pay_service;
--> statement-breakpoint
-- Append-only: no UPDATE, no DELETE (and no TRUNCATE). Identity columns need no sequence grant.
GRANT SELECT, INSERT ON
  "pay"."payment_events",
  "pay"."subscription_events",
  "pay"."refund_events",
  "pay"."audit_log"
TO pay_service;
--> statement-breakpoint
-- Readiness checks compare the journal with the migrations shipped (migrationState()).
GRANT SELECT ON "pay"."__migrations" TO pay_service;
