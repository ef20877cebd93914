<?php
/**
 * Dashboard module.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Backend\Dashboard;

use BookneticApp\Providers\Core\Capabilities;
use BookneticApp\Providers\Core\Permission;
use BookneticApp\Providers\Core\TenantScope;

defined( 'ABSPATH' ) || exit;

/**
 * A summary of the current tenant's data.
 */
class Controller extends \BookneticApp\Providers\Core\Controller {

	/**
	 * The dashboard.
	 */
	public function index() {
		global $wpdb;
		Capabilities::must( 'dashboard' );
		$scope = TenantScope::where();
		$this->view(
			'index',
			array(
				'customers'    => (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->base_prefix}bkntc_customers WHERE 1=1{$scope}" ), // phpcs:ignore WordPress.DB
				'appointments' => (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->base_prefix}bkntc_appointments WHERE 1=1{$scope}" ), // phpcs:ignore WordPress.DB
				'tenant_id'    => Permission::tenantId(),
				'user'         => wp_get_current_user(),
			)
		);
	}
}
