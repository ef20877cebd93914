<?php
/**
 * Booknetic's Helper: SaaS detection and tenant-aware options.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Helpers;

use BookneticApp\Providers\Core\Permission;

defined( 'ABSPATH' ) || exit;

/**
 * Static helpers.
 */
class Helper {

	/**
	 * Whether the SaaS plugin is loaded.
	 *
	 * @return bool
	 */
	public static function isSaaSVersion() {
		return class_exists( '\BookneticSaaS\Providers\Core\Bootstrap' );
	}

	/**
	 * The WP option name Booknetic stores a setting under: bkntc_<name>, or in SaaS with a
	 * tenant bkntc_t<tenant>_<name>. A numeric $multi_tenant forces that tenant; false means
	 * a global option.
	 *
	 * @param string   $name         Setting name.
	 * @param bool|int $multi_tenant Tenant scoping.
	 * @return string
	 */
	public static function optionName( $name, $multi_tenant = true ) {
		$prefix = 'bkntc_';
		if ( false !== $multi_tenant && self::isSaaSVersion() ) {
			$tenant_id = ( is_int( $multi_tenant ) || ( is_string( $multi_tenant ) && ctype_digit( $multi_tenant ) ) )
				? (int) $multi_tenant
				: Permission::tenantId();
			if ( $tenant_id > 0 ) {
				$prefix .= 't' . $tenant_id . '_';
			}
		}
		return $prefix . $name;
	}

	/**
	 * Read a setting.
	 *
	 * @param string   $name         Setting name.
	 * @param mixed    $default      Default value.
	 * @param bool|int $multi_tenant Tenant scoping.
	 * @return mixed
	 */
	public static function getOption( $name, $default = null, $multi_tenant = true ) {
		return get_option( self::optionName( $name, $multi_tenant ), $default );
	}

	/**
	 * Write a setting.
	 *
	 * @param string    $name         Setting name.
	 * @param mixed     $value        Value.
	 * @param bool|int  $multi_tenant Tenant scoping.
	 * @param bool|null $autoload     Autoload flag.
	 * @return bool
	 */
	public static function setOption( $name, $value, $multi_tenant = true, $autoload = null ) {
		return update_option( self::optionName( $name, $multi_tenant ), $value, $autoload );
	}

	/**
	 * Delete a setting.
	 *
	 * @param string   $name         Setting name.
	 * @param bool|int $multi_tenant Tenant scoping.
	 * @return bool
	 */
	public static function deleteOption( $name, $multi_tenant = true ) {
		return delete_option( self::optionName( $name, $multi_tenant ) );
	}

	/**
	 * The admin page slug (SaaS installs may rename it).
	 *
	 * @return string
	 */
	public static function getBackendSlug() {
		if ( self::isSaaSVersion() ) {
			$slug = (string) get_option( 'bkntc_backend_slug', 'booknetic' );
			return '' !== $slug ? $slug : 'booknetic';
		}
		return 'booknetic';
	}

	/**
	 * Booknetic's runtime gate: true at most once per $time_limit seconds across processes,
	 * through the option bkntc_<process>_runned_on (read and compare-and-swapped with raw SQL
	 * on {base_prefix}options, as the real core does).
	 *
	 * @param string $process_name Process name (cron_job).
	 * @param int    $time_limit   Seconds.
	 * @return bool
	 */
	public static function processRuntimeController( $process_name, $time_limit ) {
		global $wpdb;
		$table  = $wpdb->base_prefix . 'options';
		$option = 'bkntc_' . $process_name . '_runned_on';
		$now    = time();
		$last   = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$table} WHERE option_name = %s", $option ) );
		if ( null === $last ) {
			$inserted = $wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$table} (option_name, option_value, autoload) VALUES (%s, %s, 'no')", $option, (string) $now ) );
			return 1 === (int) $inserted;
		}
		if ( $now - (int) $last < $time_limit ) {
			return false;
		}
		$updated = $wpdb->query( $wpdb->prepare( "UPDATE {$table} SET option_value = %s WHERE option_name = %s AND option_value = %s", (string) $now, $option, $last ) );
		return 1 === (int) $updated;
	}
}
