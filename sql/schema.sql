-- Booknetic SMS Campaigns: the sidecar's own tables.
-- Generated from sidecar/schema.py (revision 0008) by
--   bkntc-sms migrate --print-sql
-- The sidecar applies this itself at start (bkntc-sms migrate). To apply it by hand
-- instead, run it once on a database that does not have these tables yet (replace
-- wp_ if needed); later versions upgrade it with `bkntc-sms migrate`.

CREATE TABLE wp_bkntc_sms_alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	PRIMARY KEY (version_num)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='The schema revision of these tables (Alembic; bkntc-sms migrate --status).' COLLATE utf8mb4_unicode_520_ci;

CREATE TABLE wp_bkntc_sms_attributions (
	recipient_id BIGINT NOT NULL, 
	appointment_id INTEGER NOT NULL, 
	campaign_id INTEGER NOT NULL, 
	created_at INTEGER NOT NULL COMMENT 'the appointment''s created_at (epoch seconds)', 
	revenue_cents BIGINT NOT NULL DEFAULT '0', 
	PRIMARY KEY (recipient_id, appointment_id)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Booknetic appointments attributed to campaign recipients.' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_attributions_campaign ON wp_bkntc_sms_attributions (campaign_id, created_at);

CREATE TABLE wp_bkntc_sms_campaign_leases (
	campaign_id INTEGER NOT NULL, 
	holder VARCHAR(128) NOT NULL COMMENT 'host:pid:random', 
	expires_at INTEGER NOT NULL, 
	taken_at INTEGER NOT NULL, 
	PRIMARY KEY (campaign_id)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Per-campaign send leases (one process sends a campaign; others may help).' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_campaign_leases_holder ON wp_bkntc_sms_campaign_leases (holder);

CREATE TABLE wp_bkntc_sms_campaigns (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	tenant_id INTEGER NOT NULL DEFAULT '0', 
	kind VARCHAR(16) NOT NULL COMMENT 'campaign | manual (one-off SMS sent through the same engine)' DEFAULT 'campaign', 
	name VARCHAR(191) NOT NULL, 
	segment VARCHAR(32), 
	filters TEXT NOT NULL COMMENT 'JSON: service_ids, location_ids, ...', 
	body TEXT NOT NULL, 
	template_id INTEGER, 
	status VARCHAR(16) NOT NULL DEFAULT 'draft', 
	status_reason VARCHAR(500) NOT NULL DEFAULT '', 
	total INTEGER NOT NULL DEFAULT '0', 
	sent INTEGER NOT NULL DEFAULT '0', 
	failed INTEGER NOT NULL DEFAULT '0', 
	pending INTEGER NOT NULL DEFAULT '0', 
	created_by INTEGER, 
	created_at INTEGER NOT NULL, 
	updated_at INTEGER NOT NULL, 
	queued_at INTEGER, 
	started_at INTEGER, 
	finished_at INTEGER, 
	delivered INTEGER NOT NULL DEFAULT '0', 
	undelivered INTEGER NOT NULL COMMENT 'delivery status undelivered or failed' DEFAULT '0', 
	send_at INTEGER COMMENT 'scheduled start (DESIGN.md §11)', 
	latest_start INTEGER COMMENT 'a scheduled campaign not started by then is paused, not sent late', 
	skipped INTEGER NOT NULL COMMENT 'recipients not sent by policy (suppressed at send time, frequency cap)' DEFAULT '0', 
	holdout_percent SMALLINT NOT NULL DEFAULT '0', 
	attribution_days SMALLINT COMMENT 'copied from the settings at send; NULL = not sent yet', 
	holdout INTEGER NOT NULL COMMENT 'recipient rows in the control group (never sent)' DEFAULT '0', 
	bookings INTEGER NOT NULL DEFAULT '0', 
	booked_recipients INTEGER NOT NULL DEFAULT '0', 
	revenue_cents BIGINT NOT NULL DEFAULT '0', 
	holdout_booked INTEGER NOT NULL COMMENT 'holdout rows with a booking in the control window' DEFAULT '0', 
	opted_out INTEGER NOT NULL COMMENT 'recipients who opted out (STOP, carrier) since it was sent' DEFAULT '0', 
	attributed_at INTEGER COMMENT 'when attribution last ran; after the window closed = frozen', 
	PRIMARY KEY (id)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Campaigns and their lifecycle (DESIGN.md §4).' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_campaigns_status ON wp_bkntc_sms_campaigns (status);

CREATE INDEX wp_bkntc_sms_campaigns_tenant_status ON wp_bkntc_sms_campaigns (tenant_id, status);

CREATE TABLE wp_bkntc_sms_daily_stats (
	tenant_id INTEGER NOT NULL, 
	day INTEGER NOT NULL COMMENT 'UTC epoch day (epoch seconds // 86400)', 
	sent INTEGER NOT NULL DEFAULT '0', 
	failed INTEGER NOT NULL DEFAULT '0', 
	delivered INTEGER NOT NULL COMMENT 'of the messages sent that day' DEFAULT '0', 
	undelivered INTEGER NOT NULL COMMENT 'of the messages sent that day (undelivered or failed)' DEFAULT '0', 
	opt_outs INTEGER NOT NULL COMMENT 'numbers added to the suppression list by a keyword or the provider' DEFAULT '0', 
	PRIMARY KEY (tenant_id, day)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Messages sent and failed, and opt-outs, per tenant and day (dashboard).' COLLATE utf8mb4_unicode_520_ci;

CREATE TABLE wp_bkntc_sms_early_statuses (
	message_sid VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	error_code INTEGER, 
	error VARCHAR(255) NOT NULL DEFAULT '', 
	received_at INTEGER NOT NULL, 
	PRIMARY KEY (message_sid, status)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Delivery statuses for message ids no recipient row has yet.' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_early_statuses_received ON wp_bkntc_sms_early_statuses (received_at);

CREATE TABLE wp_bkntc_sms_locks (
	name VARCHAR(64) NOT NULL, 
	holder VARCHAR(128) NOT NULL, 
	expires_at INTEGER NOT NULL, 
	PRIMARY KEY (name)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Lease locks shared by every sidecar process (queue runs).' COLLATE utf8mb4_unicode_520_ci;

CREATE TABLE wp_bkntc_sms_meta (
	name VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	updated_at INTEGER NOT NULL, 
	PRIMARY KEY (name)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Key-value bookkeeping: the provider halt reason.' COLLATE utf8mb4_unicode_520_ci;

CREATE TABLE wp_bkntc_sms_nonces (
	nonce VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, 
	seen_at INTEGER NOT NULL, 
	PRIMARY KEY (nonce)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Bridge request nonces seen in the last 600 s (replay protection).' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_nonces_seen ON wp_bkntc_sms_nonces (seen_at);

CREATE TABLE wp_bkntc_sms_phones (
	tenant_id INTEGER NOT NULL COMMENT 'the customer''s tenant (0 = none), copied so segments need not join bkntc_customers' DEFAULT '0', 
	region VARCHAR(2) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'default region the number was parsed with (ISO 3166, '''' = none)' DEFAULT '', 
	customer_id INTEGER NOT NULL, 
	raw_phone VARCHAR(255), 
	e164 VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin COMMENT 'NULL when missing or invalid', 
	checked_at INTEGER NOT NULL, 
	PRIMARY KEY (tenant_id, region, customer_id)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='E.164 form of bkntc_customers.phone_number per default region (NULL = missing/invalid).' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_phones_tenant_region_e164 ON wp_bkntc_sms_phones (tenant_id, region, e164, customer_id);

CREATE TABLE wp_bkntc_sms_processes (
	holder VARCHAR(128) NOT NULL COMMENT 'host:pid:random', 
	host VARCHAR(128) NOT NULL, 
	pid INTEGER NOT NULL, 
	version VARCHAR(32) NOT NULL DEFAULT '', 
	rate_per_second FLOAT NOT NULL COMMENT 'its BKNTC_SMS_RATE_PER_SECOND (0 = none)' DEFAULT '0', 
	started_at INTEGER NOT NULL, 
	seen_at INTEGER NOT NULL, 
	expires_at INTEGER NOT NULL, 
	PRIMARY KEY (holder)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Sidecar processes running the queue (live while expires_at is ahead).' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_processes_expires ON wp_bkntc_sms_processes (expires_at);

CREATE TABLE wp_bkntc_sms_rate_limits (
	sender VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'account SID:from', 
	next_slot_us BIGINT NOT NULL COMMENT 'epoch microseconds of the next free send slot' DEFAULT '0', 
	updated_at INTEGER NOT NULL DEFAULT '0', 
	PRIMARY KEY (sender)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Send slots per Twilio sender, shared by every process.' COLLATE utf8mb4_unicode_520_ci;

CREATE TABLE wp_bkntc_sms_recipients (
	id BIGINT NOT NULL AUTO_INCREMENT, 
	campaign_id INTEGER NOT NULL, 
	tenant_id INTEGER NOT NULL DEFAULT '0', 
	customer_id INTEGER, 
	phone VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, 
	first_name VARCHAR(191) NOT NULL DEFAULT '', 
	last_name VARCHAR(191) NOT NULL DEFAULT '', 
	status VARCHAR(16) NOT NULL COMMENT 'pending | sent | failed; a claimed row stays pending with a lease' DEFAULT 'pending', 
	attempts SMALLINT NOT NULL DEFAULT '0', 
	next_attempt_at INTEGER NOT NULL DEFAULT '0', 
	lease_until INTEGER, 
	claimed_by VARCHAR(64), 
	unsure_since INTEGER COMMENT 'set while a send''s outcome is unknown; reconcile before re-sending', 
	last_error VARCHAR(500) NOT NULL DEFAULT '', 
	error_code INTEGER, 
	provider_message_id VARCHAR(64), 
	sent_at INTEGER, 
	updated_at INTEGER NOT NULL DEFAULT '0', 
	delivery_status VARCHAR(16) COMMENT 'queued | sent | delivered | undelivered | failed; NULL = none known', 
	delivered_at INTEGER, 
	delivery_error_code INTEGER COMMENT 'the carrier''s error code (Twilio 30xxx)', 
	delivery_error VARCHAR(255) NOT NULL COMMENT 'the carrier''s error in words' DEFAULT '', 
	delivery_checks SMALLINT NOT NULL COMMENT 'times the poller asked the provider' DEFAULT '0', 
	delivery_check_at INTEGER COMMENT 'when the poller asks next; NULL = final or given up', 
	timezone VARCHAR(64) COMMENT 'the recipient''s own zone, resolved at snapshot (NULL = the business zone); quiet hours apply in it', 
	booked_appointment_id INTEGER COMMENT 'the earliest attributed Booknetic appointment (DESIGN.md §12)', 
	booked_at INTEGER COMMENT 'created_at of that appointment', 
	revenue_cents BIGINT COMMENT 'all attributed appointments of this row; NULL = none', 
	PRIMARY KEY (id), 
	CONSTRAINT wp_bkntc_sms_recipients_campaign_phone UNIQUE (campaign_id, phone)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Per-recipient send queue and log.' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_recipients_delivery_check ON wp_bkntc_sms_recipients (delivery_check_at);

CREATE INDEX wp_bkntc_sms_recipients_message ON wp_bkntc_sms_recipients (provider_message_id);

CREATE INDEX wp_bkntc_sms_recipients_queue ON wp_bkntc_sms_recipients (campaign_id, status, next_attempt_at);

CREATE INDEX wp_bkntc_sms_recipients_tenant_phone ON wp_bkntc_sms_recipients (tenant_id, phone, sent_at);

CREATE TABLE wp_bkntc_sms_settings (
	tenant_id INTEGER NOT NULL COMMENT '0 = no tenant (single-site, or Booknetic''s NULL tenant)', 
	settings TEXT NOT NULL COMMENT 'JSON object of the settings this tenant has set (the rest are defaults)', 
	updated_by INTEGER, 
	updated_at INTEGER NOT NULL, 
	PRIMARY KEY (tenant_id)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Per-tenant settings: quiet hours, frequency cap, attribution, holdout, price, country.' COLLATE utf8mb4_unicode_520_ci;

CREATE TABLE wp_bkntc_sms_suppressions (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	tenant_id INTEGER NOT NULL DEFAULT '0', 
	phone VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, 
	reason VARCHAR(255) NOT NULL DEFAULT '', 
	source VARCHAR(16) NOT NULL COMMENT 'manual (an admin, one or pasted) | keyword (replied STOP) | provider (Twilio refused the number)' DEFAULT 'manual', 
	created_by INTEGER, 
	created_at INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT wp_bkntc_sms_suppressions_tenant_phone UNIQUE (tenant_id, phone)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Numbers a tenant never sends to.' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_suppressions_phone ON wp_bkntc_sms_suppressions (phone);

CREATE TABLE wp_bkntc_sms_templates (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	tenant_id INTEGER NOT NULL DEFAULT '0', 
	builtin_key VARCHAR(64) COMMENT 'set on the read-only built-ins', 
	name VARCHAR(191) NOT NULL, 
	body TEXT NOT NULL, 
	created_by INTEGER, 
	created_at INTEGER NOT NULL, 
	updated_at INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT wp_bkntc_sms_templates_builtin_key UNIQUE (builtin_key)
)ENGINE=InnoDB CHARSET=utf8mb4 COMMENT='Message templates: built-ins (tenant 0, builtin_key set) and per tenant.' COLLATE utf8mb4_unicode_520_ci;

CREATE INDEX wp_bkntc_sms_templates_tenant ON wp_bkntc_sms_templates (tenant_id);

INSERT INTO wp_bkntc_sms_alembic_version (version_num) VALUES ('0008');
