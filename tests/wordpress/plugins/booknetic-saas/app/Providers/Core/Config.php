<?php
/**
 * The tenant's plan decides tenant capabilities and limits.
 *
 * @package BookneticSaaS
 */

namespace BookneticSaaS\Providers\Core;

use BookneticApp\Providers\Core\Permission;

defined( 'ABSPATH' ) || exit;

/**
 * Config::tenantCapabilities / tenantLimits of booknetic-saas: with no tenant the value is
 * left alone; otherwise a capability is allowed only if the plan says "on", and a limit is
 * the plan's number (0 when missing). An expired tenant without balance falls back to the
 * plan flagged expire_plan = 1.
 */
class Config {

	/**
	 * Plan permissions per tenant (per request).
	 *
	 * @var array<int, array>
	 */
	private static $permissions = array();

	/**
	 * Filter bkntc_tenant_capability_filter.
	 *
	 * @param bool   $can        Value so far.
	 * @param string $capability Capability.
	 * @return bool
	 */
	public static function tenant_capabilities( $can, $capability ) {
		$tenant_id = Permission::tenantId();
		if ( ! $can || null === $tenant_id ) {
			return $can;
		}
		$permissions = self::permissions( $tenant_id );
		return isset( $permissions['capabilities'][ $capability ] ) && 'on' === $permissions['capabilities'][ $capability ];
	}

	/**
	 * Filter bkntc_capability_limit_filter.
	 *
	 * @param int    $limit Value so far.
	 * @param string $name  Limit.
	 * @return int
	 */
	public static function tenant_limits( $limit, $name ) {
		$tenant_id = Permission::tenantId();
		if ( null === $tenant_id ) {
			return $limit;
		}
		$permissions = self::permissions( $tenant_id );
		return isset( $permissions['limits'][ $name ] ) ? (int) $permissions['limits'][ $name ] : 0;
	}

	/**
	 * The decoded permissions of a tenant's plan.
	 *
	 * @param int $tenant_id Tenant.
	 * @return array
	 */
	public static function permissions( $tenant_id ) {
		global $wpdb;
		if ( isset( self::$permissions[ $tenant_id ] ) ) {
			return self::$permissions[ $tenant_id ];
		}
		$tenant = $wpdb->get_row( $wpdb->prepare( "SELECT plan_id, expires_in, money_balance FROM {$wpdb->base_prefix}bkntc_tenants WHERE id = %d", $tenant_id ), ARRAY_A );
		$json   = null;
		if ( $tenant ) {
			$expired = ! empty( $tenant['expires_in'] ) && strtotime( $tenant['expires_in'] . ' UTC' ) < time() && (float) $tenant['money_balance'] <= 0;
			if ( $expired ) {
				$json = $wpdb->get_var( "SELECT permissions FROM {$wpdb->base_prefix}bkntc_plans WHERE expire_plan = 1 ORDER BY id LIMIT 1" ); // phpcs:ignore WordPress.DB
			}
			if ( null === $json ) {
				$json = $wpdb->get_var( $wpdb->prepare( "SELECT permissions FROM {$wpdb->base_prefix}bkntc_plans WHERE id = %d", $tenant['plan_id'] ) );
			}
		}
		$decoded                          = is_string( $json ) ? json_decode( $json, true ) : null;
		self::$permissions[ $tenant_id ] = is_array( $decoded ) ? $decoded : array();
		return self::$permissions[ $tenant_id ];
	}
}
