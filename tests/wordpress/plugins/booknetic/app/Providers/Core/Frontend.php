<?php
/**
 * Booknetic's front-end start.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

defined( 'ABSPATH' ) || exit;

/**
 * Frontend::init() runs for every non-admin request and, as in 5.2.2, for every
 * admin-ajax.php request too (logged in or not): it fires bkntc_frontend, never
 * bkntc_backend. The booking panel, shortcodes and front-end ajax of the real core are left
 * out.
 */
class Frontend {

	/**
	 * The front-end hook.
	 */
	public static function init(): void {
		do_action( 'bkntc_frontend' );
	}
}
