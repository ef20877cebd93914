<?php
/**
 * User capabilities (who may do what) and tenant capabilities (what a SaaS plan allows).
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

defined( 'ABSPATH' ) || exit;

/**
 * Booknetic's capability registry, with its semantics:
 *  - userCan(): unknown capability => false; a failing parent => false; otherwise the filter
 *    bkntc_user_capability_filter decides. Core's own callback (priority 10) grants
 *    everything to Booknetic administrators (WP administrators and SaaS tenant owners) and
 *    only the staff list (and its children) to other logged-in users. A callback at a later
 *    priority (the User Role Manager uses 20) may grant more.
 *  - tenantCan(): unknown capability => true; a failing parent => false; otherwise the filter
 *    bkntc_tenant_capability_filter (hooked by the SaaS plugin: the tenant's plan decides).
 */
class Capabilities {

	/**
	 * What non-administrators may use (Config::userCapabilityFilter in Booknetic).
	 */
	const STAFF_CAPABILITIES = array( 'dashboard', 'appointments', 'calendar', 'customers', 'payments', 'staff' );

	/**
	 * Registered user capabilities, name => [title, parent].
	 *
	 * @var array<string, array{title: string, parent: string|false}>
	 */
	private static $user_capabilities = array();

	/**
	 * Registered tenant capabilities, name => [title, parent].
	 *
	 * @var array<string, array{title: string, parent: string|false}>
	 */
	private static $tenant_capabilities = array();

	/**
	 * Registered limits, name => title.
	 *
	 * @var array<string, string>
	 */
	private static $limits = array();

	/**
	 * Declare a user capability.
	 *
	 * @param string       $capability Name.
	 * @param string       $title      Label.
	 * @param string|false $parent     Parent capability.
	 */
	public static function register( $capability, $title, $parent = false ) {
		self::$user_capabilities[ $capability ] = array(
			'title'  => $title,
			'parent' => $parent,
		);
	}

	/**
	 * Declare a tenant (plan) capability.
	 *
	 * @param string       $capability Name.
	 * @param string       $title      Label.
	 * @param string|false $parent     Parent capability.
	 */
	public static function registerTenantCapability( $capability, $title, $parent = false ) {
		self::$tenant_capabilities[ $capability ] = array(
			'title'  => $title,
			'parent' => $parent,
		);
	}

	/**
	 * Declare a plan limit.
	 *
	 * @param string $name  Name.
	 * @param string $title Label.
	 */
	public static function registerLimit( $name, $title ) {
		self::$limits[ $name ] = $title;
	}

	/**
	 * Whether the current user has a capability.
	 *
	 * @param string $capability Name.
	 * @return bool
	 */
	public static function userCan( $capability ) {
		if ( ! isset( self::$user_capabilities[ $capability ] ) ) {
			return false;
		}
		$parent = self::$user_capabilities[ $capability ]['parent'];
		if ( false !== $parent && ! self::userCan( $parent ) ) {
			return false;
		}
		return (bool) apply_filters( 'bkntc_user_capability_filter', true, $capability );
	}

	/**
	 * Throw unless the current user has a capability.
	 *
	 * @param string $capability Name.
	 * @throws CapabilitiesException When the user lacks it.
	 */
	public static function must( $capability ) {
		if ( ! self::userCan( $capability ) ) {
			throw new CapabilitiesException( sprintf( 'You do not have the "%s" capability.', $capability ) );
		}
	}

	/**
	 * Whether the current tenant's plan allows a capability.
	 *
	 * @param string $capability Name.
	 * @return bool
	 */
	public static function tenantCan( $capability ) {
		if ( ! isset( self::$tenant_capabilities[ $capability ] ) ) {
			return true;
		}
		$parent = self::$tenant_capabilities[ $capability ]['parent'];
		if ( false !== $parent && ! self::tenantCan( $parent ) ) {
			return false;
		}
		return (bool) apply_filters( 'bkntc_tenant_capability_filter', true, $capability );
	}

	/**
	 * Throw unless the current tenant's plan allows a capability.
	 *
	 * @param string $capability Name.
	 * @throws CapabilitiesException When the plan does not.
	 */
	public static function mustTenant( $capability ) {
		if ( ! self::tenantCan( $capability ) ) {
			throw new CapabilitiesException( sprintf( 'Your plan does not include "%s".', $capability ) );
		}
	}

	/**
	 * A limit of the current tenant's plan; -1 means unlimited.
	 *
	 * @param string $name Limit name.
	 * @return int
	 */
	public static function getLimit( $name ) {
		return (int) apply_filters( 'bkntc_capability_limit_filter', -1, $name );
	}

	/**
	 * Tenant capabilities (the SaaS plan editor lists these).
	 *
	 * @return array<string, array{title: string, parent: string|false}>
	 */
	public static function getTenantCapabilityList() {
		return self::$tenant_capabilities;
	}

	/**
	 * User capabilities.
	 *
	 * @return array<string, array{title: string, parent: string|false}>
	 */
	public static function getList() {
		return self::$user_capabilities;
	}

	/**
	 * Limits.
	 *
	 * @return array<string, string>
	 */
	public static function getLimitsList() {
		return self::$limits;
	}

	/**
	 * Core's callback on bkntc_user_capability_filter (Config::userCapabilityFilter).
	 *
	 * @param bool   $can        Value so far.
	 * @param string $capability Name.
	 * @return bool
	 */
	public static function user_capability_filter( $can, $capability ) {
		if ( ! $can || ! is_user_logged_in() ) {
			return false;
		}
		if ( Permission::isAdministrator() ) {
			return true;
		}
		$seen = array();
		while ( false !== $capability && ! isset( $seen[ $capability ] ) ) {
			if ( in_array( $capability, self::STAFF_CAPABILITIES, true ) ) {
				return true;
			}
			$seen[ $capability ] = true;
			$capability          = isset( self::$user_capabilities[ $capability ] ) ? self::$user_capabilities[ $capability ]['parent'] : false;
		}
		return false;
	}
}
