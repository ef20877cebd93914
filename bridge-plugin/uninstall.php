<?php
/**
 * Uninstall: delete exactly the options this plugin created, on every site of a network.
 * The service's own tables (bkntc_sms_*) hold campaign history and are left for the
 * operator to drop (see the README) — they belong to the service, not to this plugin.
 *
 * @package BkntcSms\Bridge
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

require_once __DIR__ . '/src/class-options.php';

\BkntcSms\Bridge\Options::delete_all();
