<?php

defined( 'ABSPATH' ) || exit;

/**
 * Inside Booknetic's layout (Controller::view): no extract(), the data is $parameters.
 *
 * @var array $parameters
 */
?>
<div id="bkntc-dashboard">
	<h2>Dashboard</h2>
	<p>Hello, <span class="bkntc-user"><?php echo esc_html( $parameters['user']->display_name ); ?></span>.</p>
	<ul>
		<li>Customers: <strong id="bkntc-dashboard-customers"><?php echo (int) $parameters['customers']; ?></strong></li>
		<li>Appointments: <strong id="bkntc-dashboard-appointments"><?php echo (int) $parameters['appointments']; ?></strong></li>
		<li>Tenant: <strong id="bkntc-dashboard-tenant"><?php echo null === $parameters['tenant_id'] ? '-' : (int) $parameters['tenant_id']; ?></strong></li>
	</ul>
</div>
