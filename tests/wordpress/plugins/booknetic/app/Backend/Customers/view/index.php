<?php

defined( 'ABSPATH' ) || exit;

/**
 * Inside Booknetic's layout (Controller::view): no extract(), the data is $parameters.
 *
 * @var array $parameters
 */
?>
<h2>Customers <span class="bkntc-count" id="bkntc-customers-total"><?php echo (int) $parameters['total']; ?></span></h2>
<table class="bkntc-table" id="bkntc-customers">
	<thead><tr><th>ID</th><th>Name</th><th>Phone</th><th>Email</th></tr></thead>
	<tbody>
	<?php foreach ( $parameters['rows'] as $row ) : ?>
		<tr>
			<td><?php echo (int) $row['id']; ?></td>
			<td><?php echo esc_html( trim( $row['first_name'] . ' ' . $row['last_name'] ) ); ?></td>
			<td><?php echo esc_html( (string) $row['phone_number'] ); ?></td>
			<td><?php echo esc_html( (string) $row['email'] ); ?></td>
		</tr>
	<?php endforeach; ?>
	</tbody>
</table>
