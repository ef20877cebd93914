<?php
/**
 * The SaaS bootstrap (its class name is how Booknetic detects SaaS).
 *
 * @package BookneticSaaS
 */

namespace BookneticSaaS\Providers\Core;

defined( 'ABSPATH' ) || exit;

/**
 * Hooks the plan-based tenant gates into Booknetic's filters and, as booknetic-saas 3.10
 * does on init (priority 9, before core's initApp), fires bkntcsaas_init, then
 * bkntcsaas_frontend (front end and admin-ajax.php) or, for the platform owner on
 * admin.php?page=booknetic-saas, bkntcsaas_backend (the SaaS panel itself is not emulated).
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
		add_action( 'init', array( self::class, 'initApp' ), 9 );
	}

	/**
	 * The SaaS request start.
	 */
	public static function initApp(): void {
		do_action( 'bkntcsaas_init' );
		$ajax = defined( 'DOING_AJAX' ) && DOING_AJAX;
		if ( ! is_admin() || $ajax ) {
			do_action( 'bkntcsaas_frontend' );
		} elseif ( \BookneticApp\Providers\Core\Permission::isSuperAdministrator() ) {
			add_action(
				'admin_init',
				static function () {
					if ( isset( $_GET['page'] ) && 'booknetic-saas' === $_GET['page'] ) { // phpcs:ignore WordPress.Security.NonceVerification
						do_action( 'bkntcsaas_backend' );
					}
				}
			);
		}
	}
}
