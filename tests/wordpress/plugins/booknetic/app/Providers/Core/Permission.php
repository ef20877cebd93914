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
 * Booknetic's Permission helper (logged-in users only: the front-end tenant detection by URL
 * slug or tenant_id parameter is not emulated).
 */
class Permission {

	/**
	 * Tenant id forced by setTenantId(), when $tenant_forced.
	 *
	 * @var int|null
	 */
	private static $tenant_id = null;

	/**
	 * Whether setTenantId() was called.
	 *
	 * @var bool
	 */
	private static $tenant_forced = false;

	/**
	 * Per-request cache, user id => tenant id.
	 *
	 * @var array<int, int|null>
	 */
	private static $tenant_of_user = array();

	/**
	 * The current tenant id: null unless SaaS. A user with the role booknetic_saas_tenant
	 * owns tenants.id where tenants.user_id = user; anyone else belongs to the tenant of their
	 * bkntc_staff row; a super admin without a staff row has none.
	 *
	 * @return int|null
	 */
	public static function tenantId() {
		if ( ! Helper::isSaaSVersion() ) {
			return null;
		}
		if ( self::$tenant_forced ) {
			return self::$tenant_id;
		}
		$user_id = get_current_user_id();
		if ( $user_id <= 0 ) {
			return null;
		}
		if ( ! array_key_exists( $user_id, self::$tenant_of_user ) ) {
			self::$tenant_of_user[ $user_id ] = self::tenant_of_user( $user_id );
		}
		return self::$tenant_of_user[ $user_id ];
	}

	/**
	 * Force the tenant id (cron code does this per tenant); null forgets the override.
	 *
	 * @param int|null $tenant_id Tenant id.
	 */
	public static function setTenantId( $tenant_id ) {
		if ( null === $tenant_id ) {
			self::$tenant_forced = false;
			self::$tenant_id     = null;
			return;
		}
		self::$tenant_forced = true;
		self::$tenant_id     = (int) $tenant_id > 0 ? (int) $tenant_id : null;
	}

	/**
	 * The tenant a WordPress user belongs to (SaaS).
	 *
	 * @param int $user_id WP user id.
	 * @return int|null
	 */
	public static function tenant_of_user( $user_id ) {
		global $wpdb;
		$user = get_userdata( $user_id );
		if ( ! $user ) {
			return null;
		}
		if ( in_array( 'booknetic_saas_tenant', (array) $user->roles, true ) ) {
			$id = $wpdb->get_var( $wpdb->prepare( "SELECT id FROM {$wpdb->base_prefix}bkntc_tenants WHERE user_id = %d ORDER BY id LIMIT 1", $user_id ) );
		} else {
			$id = $wpdb->get_var( $wpdb->prepare( "SELECT tenant_id FROM {$wpdb->base_prefix}bkntc_staff WHERE user_id = %d ORDER BY id LIMIT 1", $user_id ) );
		}
		return ( null !== $id && (int) $id > 0 ) ? (int) $id : null;
	}

	/**
	 * Booknetic administrators: WP administrators and SaaS tenant owners.
	 *
	 * @return bool
	 */
	public static function isAdministrator() {
		$user = wp_get_current_user();
		if ( ! $user->exists() ) {
			return false;
		}
		$roles = (array) $user->roles;
		return in_array( 'administrator', $roles, true ) || in_array( 'booknetic_saas_tenant', $roles, true ) || is_super_admin( $user->ID );
	}

	/**
	 * The SaaS platform owner (a WP administrator in a SaaS install).
	 *
	 * @return bool
	 */
	public static function isSuperAdministrator() {
		$user = wp_get_current_user();
		return Helper::isSaaSVersion() && $user->exists() && ( in_array( 'administrator', (array) $user->roles, true ) || is_super_admin( $user->ID ) );
	}

	/**
	 * The current WP user id.
	 *
	 * @return int
	 */
	public static function userId() {
		return get_current_user_id();
	}

	/**
	 * The bkntc_staff ids of the current user.
	 *
	 * @return int[]
	 */
	public static function myStaffId() {
		global $wpdb;
		$user_id = get_current_user_id();
		if ( $user_id <= 0 ) {
			return array();
		}
		$ids = $wpdb->get_col( $wpdb->prepare( "SELECT id FROM {$wpdb->base_prefix}bkntc_staff WHERE user_id = %d", $user_id ) );
		return array_map( 'intval', (array) $ids );
	}

	/**
	 * Whether the current user may open the Booknetic panel: Booknetic administrators and
	 * staff; in SaaS not the platform owner (a super admin without a tenant uses the SaaS
	 * panel instead).
	 *
	 * @return bool
	 */
	public static function canUseBooknetic() {
		if ( ! is_user_logged_in() ) {
			return false;
		}
		if ( self::isSuperAdministrator() && null === self::tenantId() ) {
			return false;
		}
		return self::isAdministrator() || ! empty( self::myStaffId() );
	}
}
