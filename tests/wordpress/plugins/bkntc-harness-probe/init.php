<?php
/**
 * Plugin Name: Booknetic harness probe (tests only)
 * Description: A dummy Booknetic add-on for tests/test_wp_harness.py: a user capability, the tenant capability sms_campaigns, a gated left-menu item, a state route (GET and POST) and a bkntc_cronjob counter.
 * Version: 0.0.1
 * Author: bkntc-sms tests
 *
 * @package BkntcHarnessProbe
 */

defined( 'ABSPATH' ) || exit;

add_filter(
	'bkntc_addons_load',
	static function ( $addons ) {
		require_once __DIR__ . '/ProbeAddon.php';
		require_once __DIR__ . '/ProbeController.php';
		$addons['bkntc-harness-probe'] = new \BkntcHarnessProbe\ProbeAddon();
		return $addons;
	}
);

register_activation_hook(
	__FILE__,
	static function () {
		update_option( 'bkntc_probe_activated', 'yes', false );
	}
);
