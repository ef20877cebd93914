<?php
/**
 * Dashboard view.
 *
 * @package BookneticApp
 *
 * @var int      $customers
 * @var int      $appointments
 * @var int|null $tenant_id
 * @var \WP_User $user
 */

defined( 'ABSPATH' ) || exit;
?>
<div id="bkntc-dashboard">
	<h2>Dashboard</h2>
	<p>Hello, <span class="bkntc-user"><?php echo esc_html( $user->display_name ); ?></span>.</p>
	<ul>
		<li>Customers: <strong id="bkntc-dashboard-customers"><?php echo (int) $customers; ?></strong></li>
		<li>Appointments: <strong id="bkntc-dashboard-appointments"><?php echo (int) $appointments; ?></strong></li>
		<li>Tenant: <strong id="bkntc-dashboard-tenant"><?php echo null === $tenant_id ? '-' : (int) $tenant_id; ?></strong></li>
	</ul>
</div>
