<?php
/**
 * SaaS super-admin settings (plain bkntc_ options, shared with single-site names).
 *
 * @package BookneticSaaS
 */

namespace BookneticSaaS\Providers\Helpers;

defined( 'ABSPATH' ) || exit;

/**
 * Static helpers of the SaaS plugin.
 */
class Helper {

	/**
	 * Read a platform setting.
	 *
	 * @param string $name    Setting name.
	 * @param mixed  $default Default.
	 * @return mixed
	 */
	public static function getOption( $name, $default = null ) {
		return get_option( 'bkntc_' . $name, $default );
	}

	/**
	 * Write a platform setting.
	 *
	 * @param string $name  Setting name.
	 * @param mixed  $value Value.
	 * @return bool
	 */
	public static function setOption( $name, $value ) {
		return update_option( 'bkntc_' . $name, $value );
	}
}
