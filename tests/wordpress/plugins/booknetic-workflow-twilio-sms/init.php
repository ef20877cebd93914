<?php
/**
 * Plugin Name: Twilio SMS action for Booknetic workflows (test stand-in)
 * Description: Stand-in for FS Code's Twilio SMS add-on: it only registers itself as the add-on booknetic-workflow-twilio-sms with its tenant capability twilio_sms. Its credentials are the options bkntc_sms_account_sid, bkntc_sms_auth_token and bkntc_sender_phone_number (set by the test harness); it sends nothing.
 * Version: 1.1.0
 * Author: bkntc-sms tests
 * Text Domain: booknetic-workflow-twilio-sms
 *
 * @package BookneticAddon\TwilioSMS
 */

defined( 'ABSPATH' ) || exit;

add_filter(
	'bkntc_addons_load',
	static function ( $addons ) {
		require_once __DIR__ . '/App/TwilioSMSAddon.php';
		$addons['booknetic-workflow-twilio-sms'] = new \BookneticAddon\TwilioSMS\TwilioSMSAddon();
		return $addons;
	}
);
