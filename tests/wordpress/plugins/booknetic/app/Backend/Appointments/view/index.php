<?php
/**
 * Appointments view.
 *
 * @package BookneticApp
 *
 * @var array[] $rows
 */


defined( 'ABSPATH' ) || exit;

/**
 * Inside Booknetic's layout (Controller::view): no extract(), the data is $parameters.
 *
 * @var array $parameters
 */
?>
<h2>Appointments</h2>
<table class="bkntc-table" id="bkntc-appointments">
	<thead><tr><th>ID</th><th>Customer</th><th>Starts</th><th>Status</th></tr></thead>
	<tbody>
	<?php foreach ( $parameters['rows'] as $row ) : ?>
		<tr>
			<td><?php echo (int) $row['id']; ?></td>
			<td><?php echo esc_html( trim( $row['first_name'] . ' ' . $row['last_name'] ) ); ?></td>
			<td><?php echo esc_html( gmdate( 'Y-m-d H:i', (int) $row['starts_at'] ) ); ?></td>
			<td><?php echo esc_html( $row['status'] ); ?></td>
		</tr>
	<?php endforeach; ?>
	</tbody>
</table>
