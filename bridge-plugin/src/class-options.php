<?php
/**
 * The plugin's WordPress options — every one of them, listed once.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Options the bridge owns (per site). uninstall.php deletes exactly Options::ALL on every
 * site.
 */
final class Options {

	const SECRET      = 'bkntc_sms_bridge_secret';
	const SIDECAR_URL = 'bkntc_sms_sidecar_url';
	const LAST_TICK   = 'bkntc_sms_last_tick';
	/**
	 * The service's version as its /healthz last reported it: array( version, at ).
	 */
	const SERVICE_VERSION = 'bkntc_sms_service_version';
	/**
	 * Booknetic's record of the add-on's installed version (bkntc_addon_<slug>_version).
	 * Booknetic 5.2 compares it with Addon::getVersion() on every request and, while it is
	 * missing or older, asks FS Code's licence server for migrations of an add-on that
	 * server does not know — one outgoing request per page view. The bridge has no
	 * migrations, so it keeps the record equal to its version itself.
	 */
	const ADDON_VERSION = 'bkntc_addon_bkntc-sms-bridge_version';
	/**
	 * Where Twilio reaches this site's webhooks (Webhooks::public_base_url()); the service
	 * reads it to set each message's StatusCallback (DESIGN.md §10).
	 */
	const PUBLIC_BASE_URL = 'bkntc_sms_public_base_url';
	const ALL             = array( self::SECRET, self::SIDECAR_URL, self::LAST_TICK, self::ADDON_VERSION, self::SERVICE_VERSION, self::PUBLIC_BASE_URL );

	const DEFAULT_SIDECAR_URL = 'http://127.0.0.1:8765';

	/**
	 * Activation: the defaults on this site, or on every site of the network when the plugin
	 * is network-activated.
	 *
	 * @param bool $network_wide Network activation (multisite).
	 */
	public static function activate( $network_wide = false ) {
		self::on_every_site( (bool) $network_wide, array( self::class, 'ensure_defaults' ) );
	}

	/**
	 * A fresh shared secret (kept if one exists), the default URL, the add-on version
	 * record, and the public webhook base as WordPress names it now.
	 */
	public static function ensure_defaults() {
		if ( ! get_option( self::SECRET ) ) {
			update_option( self::SECRET, self::new_secret(), false );
		}
		if ( ! get_option( self::SIDECAR_URL ) ) {
			update_option( self::SIDECAR_URL, self::DEFAULT_SIDECAR_URL, false );
		}
		self::sync_addon_version();
		self::record_public_base_url();
	}

	/**
	 * Write the public webhook base (activation, permalink changes; saving the settings
	 * does it through Settings::public_base_url()).
	 */
	public static function record_public_base_url() {
		$url = Webhooks::public_base_url();
		if ( get_option( self::PUBLIC_BASE_URL ) !== $url ) {
			// Autoloaded: ensure_public_base_url() reads it on every admin page.
			update_option( self::PUBLIC_BASE_URL, $url, true );
		}
	}

	/**
	 * The admin_init hook: write the public webhook base if it is missing — an update from
	 * a version without webhooks runs no activation hook, and until the option exists the
	 * service sends messages without a StatusCallback.
	 */
	public static function ensure_public_base_url() {
		if ( ! get_option( self::PUBLIC_BASE_URL ) ) {
			self::record_public_base_url();
		}
	}

	/**
	 * Keep Booknetic's add-on version record equal to this code's version (activation, and
	 * on load after an update, which runs no activation hook). Autoloaded: Booknetic reads it
	 * on every request.
	 */
	public static function sync_addon_version() {
		if ( get_option( self::ADDON_VERSION ) !== VERSION ) {
			update_option( self::ADDON_VERSION, VERSION, true );
		}
	}

	/**
	 * Delete every option of the plugin, on this site or on every site of the network.
	 */
	public static function delete_all() {
		self::on_every_site(
			is_multisite(),
			static function () {
				foreach ( self::ALL as $option ) {
					delete_option( $option );
				}
			}
		);
	}

	/**
	 * Run $callback on the current site, or on each site of the network.
	 *
	 * @param bool     $every_site Every site of the network.
	 * @param callable $callback   What to run.
	 */
	private static function on_every_site( $every_site, callable $callback ) {
		if ( ! $every_site || ! is_multisite() ) {
			$callback();
			return;
		}
		foreach ( get_sites(
			array(
				'fields' => 'ids',
				'number' => 0,
			)
		) as $site_id ) {
			switch_to_blog( $site_id );
			$callback();
			restore_current_blog();
		}
	}

	/**
	 * A 64-character random hex secret.
	 *
	 * @return string
	 */
	public static function new_secret() {
		return bin2hex( random_bytes( 32 ) );
	}

	/**
	 * The shared secret.
	 *
	 * @return string
	 */
	public static function secret() {
		return (string) get_option( self::SECRET, '' );
	}

	/**
	 * The public webhook base as last written ('' before it was).
	 *
	 * @return string
	 */
	public static function public_base_url() {
		return (string) get_option( self::PUBLIC_BASE_URL, '' );
	}

	/**
	 * The sidecar's base URL, without a trailing slash.
	 *
	 * @return string
	 */
	public static function sidecar_url() {
		$url = (string) get_option( self::SIDECAR_URL, self::DEFAULT_SIDECAR_URL );
		return untrailingslashit( '' !== $url ? $url : self::DEFAULT_SIDECAR_URL );
	}
}
