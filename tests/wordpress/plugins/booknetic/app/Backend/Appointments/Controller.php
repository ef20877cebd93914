<?php
/**
 * Appointments module.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Backend\Appointments;

use BookneticApp\Providers\Core\Capabilities;
use BookneticApp\Providers\Core\TenantScope;

defined( 'ABSPATH' ) || exit;

/**
 * The latest appointments of the current tenant.
 */
class Controller extends \BookneticApp\Providers\Core\Controller {

	/**
	 * The list.
	 */
	public function index() {
		global $wpdb;
		Capabilities::must( 'appointments' );
		$scope = TenantScope::where( 'a.tenant_id' );
		$rows  = $wpdb->get_results(
			"SELECT a.id, a.status, a.starts_at, c.first_name, c.last_name FROM {$wpdb->base_prefix}bkntc_appointments a LEFT JOIN {$wpdb->base_prefix}bkntc_customers c ON c.id = a.customer_id WHERE 1=1{$scope} ORDER BY a.starts_at DESC LIMIT 25", // phpcs:ignore WordPress.DB
			ARRAY_A
		);
		$this->view( 'index', array( 'rows' => (array) $rows ) );
	}
}
