<?php
/**
 * Customers module.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Backend\Customers;

use BookneticApp\Providers\Core\Capabilities;
use BookneticApp\Providers\Core\TenantScope;

defined( 'ABSPATH' ) || exit;

/**
 * The current tenant's customers.
 */
class Controller extends \BookneticApp\Providers\Core\Controller {

	/**
	 * The list.
	 */
	public function index() {
		global $wpdb;
		Capabilities::must( 'customers' );
		$scope = TenantScope::where();
		$total = (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->base_prefix}bkntc_customers WHERE 1=1{$scope}" ); // phpcs:ignore WordPress.DB
		$rows  = $wpdb->get_results( "SELECT id, first_name, last_name, phone_number, email FROM {$wpdb->base_prefix}bkntc_customers WHERE 1=1{$scope} ORDER BY id LIMIT 25", ARRAY_A ); // phpcs:ignore WordPress.DB
		$this->view(
			'index',
			array(
				'rows'  => (array) $rows,
				'total' => $total,
			)
		);
	}
}
