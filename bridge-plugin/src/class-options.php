<?php
/**
 * The plugin's WordPress options — every one of them, listed once.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Options the bridge owns. uninstall.php deletes exactly Options::ALL.
 */
final class Options {

	const SECRET      = 'bkntc_sms_bridge_secret';
	const SIDECAR_URL = 'bkntc_sms_sidecar_url';
	const LAST_TICK   = 'bkntc_sms_last_tick';
	const ALL         = array( self::SECRET, self::SIDECAR_URL, self::LAST_TICK );

	const DEFAULT_SIDECAR_URL = 'http://127.0.0.1:8765';

	/**
	 * On activation: a fresh shared secret (kept if one exists) and the default URL.
	 */
	public static function ensure_defaults() {
		if ( ! get_option( self::SECRET ) ) {
			update_option( self::SECRET, self::new_secret(), false );
		}
		if ( ! get_option( self::SIDECAR_URL ) ) {
			update_option( self::SIDECAR_URL, self::DEFAULT_SIDECAR_URL, false );
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
	 * The sidecar's base URL, without a trailing slash.
	 *
	 * @return string
	 */
	public static function sidecar_url() {
		$url = (string) get_option( self::SIDECAR_URL, self::DEFAULT_SIDECAR_URL );
		return untrailingslashit( '' !== $url ? $url : self::DEFAULT_SIDECAR_URL );
	}
}
