<?php
/**
 * Plugin Name:       Booknetic SMS Campaigns (bridge)
 * Description:       Shows SMS Campaigns inside Booknetic's panel, tells the SMS Campaigns service who the user is (signed), and forwards Booknetic's cron tick and Twilio's webhooks. All logic lives in the service; this plugin only relays.
 * Version:           0.2.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * Requires Plugins:  booknetic
 * Author:            Booknetic SMS Campaigns
 * License:           GPL-2.0-or-later
 * Text Domain:       bkntc-sms-bridge
 * Domain Path:       /languages
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

const VERSION     = '0.2.0';
const PLUGIN_FILE = __FILE__;

require_once __DIR__ . '/src/class-options.php';
require_once __DIR__ . '/src/class-booknetic.php';
require_once __DIR__ . '/src/class-signer.php';
require_once __DIR__ . '/src/class-identity.php';
require_once __DIR__ . '/src/class-sidecar.php';
require_once __DIR__ . '/src/class-relay.php';
require_once __DIR__ . '/src/class-cron.php';
require_once __DIR__ . '/src/class-webhooks.php';
require_once __DIR__ . '/src/class-settings.php';
require_once __DIR__ . '/src/class-notices.php';
require_once __DIR__ . '/src/class-versions.php';

register_activation_hook( __FILE__, array( Options::class, 'activate' ) );

/**
 * Registers every hook of the plugin, in one place.
 */
function register_hooks() {
	add_action( 'init', __NAMESPACE__ . '\\load_textdomain', 1 );

	// Booknetic collects add-ons on plugins_loaded; the Addon class extends Booknetic's
	// AddonLoader, so it is only loaded once Booknetic is known to be there.
	add_filter( 'bkntc_addons_load', array( Booknetic::class, 'register_addon' ) );

	add_action( 'wp_ajax_' . Relay::ACTION, array( Relay::class, 'handle' ) );
	add_action( 'bkntc_cronjob', array( Cron::class, 'tick' ) );
	add_action( 'rest_api_init', array( Webhooks::class, 'register_routes' ) );
	add_filter( 'rest_pre_serve_request', array( Webhooks::class, 'serve_raw' ), 10, 4 );
	add_action( 'admin_init', array( Options::class, 'ensure_public_base_url' ) );
	add_action( 'permalink_structure_changed', array( Options::class, 'record_public_base_url' ) );

	add_action( 'admin_menu', array( Settings::class, 'add_page' ) );
	add_action( 'admin_init', array( Settings::class, 'register' ) );
	add_action( 'admin_post_bkntc_sms_regenerate_secret', array( Settings::class, 'regenerate_secret' ) );
	add_action( 'admin_post_bkntc_sms_test_connection', array( Settings::class, 'test_connection' ) );
	add_action( 'admin_notices', array( Notices::class, 'booknetic_missing' ) );
	add_action( 'admin_notices', array( Notices::class, 'version_mismatch' ) );
	add_filter( 'plugin_action_links_' . plugin_basename( __FILE__ ), array( Settings::class, 'action_links' ) );
}

/**
 * Translations: languages/bkntc-sms-bridge-<locale>.mo, or WP_LANG_DIR/plugins/. Booknetic
 * also loads this domain (its AddonLoader does, for the add-on's slug); loading it here
 * covers the settings screen and notices, and the sites where Booknetic is missing.
 */
function load_textdomain() {
	if ( ! is_textdomain_loaded( 'bkntc-sms-bridge' ) ) {
		load_plugin_textdomain( 'bkntc-sms-bridge', false, dirname( plugin_basename( PLUGIN_FILE ) ) . '/languages' );
	}
}

register_hooks();
