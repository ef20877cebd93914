<?php
/**
 * Who the current user is to Booknetic, and which SaaS tenant the request belongs to.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * Booknetic 5.2.2's Permission rules:
 *  - tenantId() (SaaS only; computed once per request, -1 = not yet): on a front-end,
 *    non-ajax request the first URL path segment names the tenant (tenants.domain); else,
 *    when the request is not the back end, a `tenant_id` (or `bkntc_page_id`) request
 *    parameter naming an existing tenant wins — and every admin-ajax.php request is "not the
 *    back end"; else a tenant owner (role booknetic_saas_tenant) gets their tenant and anyone
 *    else the tenant of their bkntc_staff row. Only ids > 0 are returned.
 *  - isBackEnd(): Backend::init() set it, or a non-ajax admin request of a Booknetic user.
 *  - isSuperAdministrator(): the role administrator (in any install); canUseBooknetic() is
 *    false for it in SaaS (the platform owner uses the SaaS panel), true for Booknetic
 *    administrators (administrator, booknetic_saas_tenant) and for users with a staff row.
 */
class Permission {

	/**
	 * The tenant of this request; -1 = not computed yet.
	 *
	 * @var int|null
	 */
	private static $tenantId = -1; // phpcs:ignore WordPress.NamingConventions.ValidVariableName

	/**
	 * Set by Backend::init().
	 *
	 * @var bool
	 */
	private static $isBackend = false; // phpcs:ignore WordPress.NamingConventions.ValidVariableName

	/**
	 * The user's bkntc_staff rows (per request).
	 *
	 * @var array|null
	 */
	private static $assignedStaffs = null; // phpcs:ignore WordPress.NamingConventions.ValidVariableName

	/**
	 * Mark the request as Booknetic's back end.
	 */
	public static function setAsBackEnd() {
		self::$isBackend = true; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
	}

	/**
	 * Whether this is Booknetic's back end.
	 *
	 * @return bool
	 */
	public static function isBackEnd(): bool {
		if ( self::$isBackend ) { // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			return true;
		}
		return ! ( ( Helper::isAjax() || ( defined( 'REST_REQUEST' ) && REST_REQUEST ) ) && ! Helper::isUpdateProcess() )
			&& is_admin() && self::canUseBooknetic();
	}

	/**
	 * Whether the current user may open Booknetic's (tenant) panel.
	 *
	 * @return bool
	 */
	public static function canUseBooknetic(): bool {
		if ( ! self::userInfo()->exists() ) {
			return false;
		}
		if ( Helper::isSaaSVersion() && self::isSuperAdministrator() ) {
			return false;
		}
		return self::isAdministrator() || ! empty( self::myStaffList() );
	}

	/**
	 * The current WP user.
	 *
	 * @return \WP_User
	 */
	public static function userInfo() {
		return wp_get_current_user();
	}

	/**
	 * The current WP user id.
	 *
	 * @return int
	 */
	public static function userId(): int {
		return get_current_user_id();
	}

	/**
	 * Booknetic administrators: WP administrators and SaaS tenant owners.
	 *
	 * @return bool
	 */
	public static function isAdministrator(): bool {
		$roles = (array) self::userInfo()->roles;
		return in_array( 'administrator', $roles, true ) || in_array( 'booknetic_saas_tenant', $roles, true );
	}

	/**
	 * The WP administrator (the platform owner in SaaS).
	 *
	 * @return bool
	 */
	public static function isSuperAdministrator(): bool {
		return in_array( 'administrator', (array) self::userInfo()->roles, true );
	}

	/**
	 * The user's bkntc_staff rows, any tenant.
	 *
	 * @return array
	 */
	public static function myStaffList(): array {
		global $wpdb;
		if ( null === self::$assignedStaffs ) { // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			self::$assignedStaffs = (array) $wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$wpdb->base_prefix}bkntc_staff WHERE user_id = %d", self::userId() ), ARRAY_A ); // phpcs:ignore
		}
		return self::$assignedStaffs; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
	}

	/**
	 * The user's bkntc_staff ids.
	 *
	 * @return int[]
	 */
	public static function myStaffId(): array {
		return array_map( 'intval', array_column( self::myStaffList(), 'id' ) );
	}

	/**
	 * The current tenant id (see the class comment), or null.
	 *
	 * @return int|null
	 */
	public static function tenantId() {
		global $wpdb;
		if ( -1 === self::$tenantId ) { // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			if ( Helper::isSaaSVersion() ) {
				$tenants      = $wpdb->base_prefix . 'bkntc_tenants';
				$from_request = Helper::_any( 'tenant_id', '', 'int' );
				if ( empty( $from_request ) ) {
					$from_request = Helper::_any( 'bkntc_page_id', '', 'int' );
				}
				$domain = self::currentDomain();
				if ( ! self::isBackEnd() && ! wp_doing_ajax() && '' !== $domain ) {
					$id = $wpdb->get_var( $wpdb->prepare( "SELECT id FROM {$tenants} WHERE domain = %s", $domain ) ); // phpcs:ignore
					if ( $id ) {
						self::$tenantId = (int) $id; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
						return self::$tenantId; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
					}
				}
				if ( -1 === self::$tenantId && ! self::isBackEnd() && $from_request > 0 ) { // phpcs:ignore WordPress.NamingConventions.ValidVariableName
					$id = $wpdb->get_var( $wpdb->prepare( "SELECT id FROM {$tenants} WHERE id = %d", $from_request ) ); // phpcs:ignore
					if ( $id ) {
						self::$tenantId = (int) $id; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
					}
				} elseif ( self::userId() > 0 ) {
					if ( in_array( 'booknetic_saas_tenant', (array) self::userInfo()->roles, true ) ) {
						$id = $wpdb->get_var( $wpdb->prepare( "SELECT id FROM {$tenants} WHERE user_id = %d ORDER BY id LIMIT 1", self::userId() ) ); // phpcs:ignore
					} else {
						$id = $wpdb->get_var( $wpdb->prepare( "SELECT tenant_id FROM {$wpdb->base_prefix}bkntc_staff WHERE user_id = %d ORDER BY id LIMIT 1", self::userId() ) ); // phpcs:ignore
					}
					self::$tenantId = null !== $id ? (int) $id : null; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
				}
			} else {
				self::$tenantId = null; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
			}
		}
		return self::$tenantId > 0 ? self::$tenantId : null; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
	}

	/**
	 * Force the tenant id (cron code does this per tenant; -1 makes the next tenantId()
	 * compute it again).
	 *
	 * @param int|null $tenant_id Tenant id.
	 */
	public static function setTenantId( $tenant_id ) {
		self::$tenantId = $tenant_id; // phpcs:ignore WordPress.NamingConventions.ValidVariableName
	}

	/**
	 * The SaaS "current domain": the first path segment after home_url(), or ?c= without
	 * pretty permalinks (BookneticSaaS Helper::getCurrentDomain()).
	 *
	 * @return string
	 */
	private static function currentDomain(): string {
		$from_query = Helper::_get( 'c', '', 'string' );
		if ( '' !== $from_query ) {
			return $from_query;
		}
		$uri  = isset( $_SERVER['REQUEST_URI'] ) ? (string) wp_parse_url( wp_unslash( $_SERVER['REQUEST_URI'] ), PHP_URL_PATH ) : ''; // phpcs:ignore WordPress.Security.ValidatedSanitizedInput
		$home = (string) wp_parse_url( home_url(), PHP_URL_PATH );
		$rest = trim( substr( $uri, strlen( $home ) ), '/' );
		$cut  = strpos( $rest, '/' );
		return false === $cut ? $rest : substr( $rest, 0, $cut );
	}
}
