<?php
/**
 * Booknetic's Helper: SaaS detection and tenant-aware options.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Helpers;

use BookneticApp\Providers\Core\Backend;
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
	 * The Booknetic page slug of the current user (5.2.2: the SaaS owner's is booknetic-saas).
	 *
	 * @return string
	 */
	public static function getBackendSlug() {
		return self::isSaaSVersion() && Permission::isSuperAdministrator() ? 'booknetic-saas' : self::getSlugName();
	}

	/**
	 * The tenant panel's page slug.
	 *
	 * @return string
	 */
	public static function getSlugName() {
		return Backend::getSlugName();
	}

	/**
	 * Core's version: the Version header of booknetic/init.php.
	 *
	 * @return string
	 */
	public static function getVersion(): string {
		$data = get_file_data( BKNTC_STANDIN_FILE, array( 'Version' => 'Version' ), false );
		return '' !== $data['Version'] ? $data['Version'] : '1.0.0';
	}

	/**
	 * URL of an asset; for add-ons ($is_addon) plugin_dir_url(WP_PLUGIN_DIR/)<module>/<url>.
	 *
	 * @param string $url      Path.
	 * @param string $module   Module or add-on slug.
	 * @param bool   $is_addon Whether $module is an add-on folder.
	 * @return string
	 */
	public static function assets( $url, $module = 'Base', $is_addon = false ) {
		if ( true === $is_addon ) {
			return plugin_dir_url( WP_PLUGIN_DIR . DIRECTORY_SEPARATOR ) . $module . '/' . $url;
		}
		return plugins_url( 'app/Backend/' . rawurlencode( ucfirst( $module ) ) . '/assets/' . ltrim( $url, '/' ), BKNTC_STANDIN_FILE );
	}

	/**
	 * Booknetic's answer array; echoed as JSON and exit unless $return_result.
	 *
	 * @param bool         $status        Success.
	 * @param array|string $arr           Payload, or the error message.
	 * @param bool         $return_result Return instead of sending.
	 * @return array|void
	 */
	public static function response( $status, $arr = array(), $return_result = false ) {
		if ( is_string( $arr ) ) {
			$arr = array( 'error_msg' => $arr );
		} elseif ( ! is_array( $arr ) ) {
			$arr = array();
		}
		if ( $status ) {
			$arr['status'] = 'ok';
		} else {
			$arr['status'] = 'error';
			if ( ! isset( $arr['error_msg'] ) ) {
				$arr['error_msg'] = 'Error!';
			}
		}
		$result = apply_filters( 'bkntc_response', $arr );
		if ( $return_result ) {
			return $result;
		}
		echo wp_json_encode( $result );
		exit();
	}

	/**
	 * $_GET[$key] (raw, as Booknetic reads it), type-checked.
	 *
	 * @param string      $key        Name.
	 * @param mixed       $default    Default.
	 * @param string|null $check_type int|string|null.
	 * @return mixed
	 */
	public static function _get( $key, $default = null, $check_type = null ) { // phpcs:ignore PSR2.Methods.MethodDeclaration.Underscore
		return self::typed( $_GET, $key, $default, $check_type ); // phpcs:ignore WordPress.Security.NonceVerification
	}

	/**
	 * $_POST[$key], type-checked.
	 *
	 * @param string      $key        Name.
	 * @param mixed       $default    Default.
	 * @param string|null $check_type int|string|null.
	 * @return mixed
	 */
	public static function _post( $key, $default = null, $check_type = null ) { // phpcs:ignore PSR2.Methods.MethodDeclaration.Underscore
		return self::typed( $_POST, $key, $default, $check_type ); // phpcs:ignore WordPress.Security.NonceVerification
	}

	/**
	 * $_REQUEST[$key] (WordPress makes it GET + POST), type-checked.
	 *
	 * @param string      $key        Name.
	 * @param mixed       $default    Default.
	 * @param string|null $check_type int|string|null.
	 * @return mixed
	 */
	public static function _any( $key, $default = null, $check_type = null ) { // phpcs:ignore PSR2.Methods.MethodDeclaration.Underscore
		return self::typed( $_REQUEST, $key, $default, $check_type ); // phpcs:ignore WordPress.Security.NonceVerification
	}

	/**
	 * Booknetic's type check of a request value.
	 *
	 * @param array       $source     Request array.
	 * @param string      $key        Name.
	 * @param mixed       $default    Default.
	 * @param string|null $check_type int|string|null.
	 * @return mixed
	 */
	private static function typed( array $source, $key, $default, $check_type ) {
		$value = isset( $source[ $key ] ) ? $source[ $key ] : $default;
		if ( $value === $default || null === $check_type ) {
			return $value;
		}
		if ( in_array( $check_type, array( 'num', 'int', 'integer' ), true ) ) {
			return is_numeric( $value ) ? (int) $value : $default;
		}
		if ( in_array( $check_type, array( 'str', 'string' ), true ) ) {
			return is_string( $value ) ? trim( $value ) : $default;
		}
		return $value;
	}

	/**
	 * is_admin(), or the block editor.
	 *
	 * @return bool
	 */
	public static function isAdmin(): bool {
		return is_admin();
	}

	/**
	 * An admin-ajax.php request.
	 *
	 * @return bool
	 */
	public static function isAjax(): bool {
		return defined( 'DOING_AJAX' ) && DOING_AJAX;
	}

	/**
	 * A plugin update request.
	 *
	 * @return bool
	 */
	public static function isUpdateProcess(): bool {
		return 'update-plugin' === self::_post( 'action', '', 'string' );
	}

	/**
	 * Booknetic's runtime gate, exactly as 5.2.2 has it (raw SQL on {base_prefix}options,
	 * because caching plugins may lie about get_option): the last run is the option
	 * bkntc_<process>_runned_on, 0 when the row is missing or empty; a missing/empty row is
	 * INSERTed with the current time; then, if at least $time_limit seconds passed since the
	 * last run, an UPDATE … WHERE option_value = <last run> swaps in the current time and the
	 * gate is open only if that UPDATE changed the row. So a deleted row does not open the
	 * gate (the row is re-inserted with "now", and the swap against '0' matches nothing);
	 * a back-dated row does.
	 *
	 * @param string $process_name Process name (cron_job).
	 * @param int    $time_limit   Seconds.
	 * @return bool
	 */
	public static function processRuntimeController( $process_name, $time_limit ): bool {
		global $wpdb;
		$table  = $wpdb->base_prefix . 'options';
		$option = sprintf( 'bkntc_%s_runned_on', $process_name );
		$now    = time();
		// phpcs:disable WordPress.DB.DirectDatabaseQuery,WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- Booknetic's own raw SQL.
		$rows     = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM `{$table}` WHERE `option_name` = %s", $option ) );
		$last_run = ! empty( $rows ) ? $rows[0]->option_value : 0;
		if ( empty( $last_run ) ) {
			$wpdb->query( $wpdb->prepare( "INSERT INTO `{$table}` (`option_name`, `option_value`, `autoload`) VALUES (%s, %s, 'yes')", $option, $now ) );
		}
		if ( ( $now - (int) $last_run ) < $time_limit ) {
			return false;
		}
		$wpdb->query( $wpdb->prepare( "UPDATE `{$table}` SET `option_value` = %s WHERE `option_name` = %s AND `option_value` = %s", (string) $now, $option, (string) $last_run ) );
		// phpcs:enable
		return $wpdb->rows_affected > 0;
	}
}
