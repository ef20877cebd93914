<?php
/**
 * The SaaS bootstrap (its class name is how Booknetic detects SaaS).
 *
 * @package BookneticSaaS
 */

namespace BookneticSaaS\Providers\Core;

defined( 'ABSPATH' ) || exit;

/**
 * Hooks the plan-based tenant gates into Booknetic's filters.
 */
final class Bootstrap {

	/**
	 * Whether boot() ran.
	 *
	 * @var bool
	 */
	private static $booted = false;

	/**
	 * Hook into Booknetic.
	 */
	public static function boot() {
		if ( self::$booted ) {
			return;
		}
		self::$booted = true;
		add_filter( 'bkntc_tenant_capability_filter', array( Config::class, 'tenant_capabilities' ), 10, 2 );
		add_filter( 'bkntc_capability_limit_filter', array( Config::class, 'tenant_limits' ), 10, 2 );
	}
}
