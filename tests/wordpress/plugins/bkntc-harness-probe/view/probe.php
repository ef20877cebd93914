<?php
/**
 * The probe's page body.
 *
 * @package BkntcHarnessProbe
 *
 * @var array $parameters
 */

defined( 'ABSPATH' ) || exit;
?>
<pre id="bkntc-probe"><?php echo esc_html( wp_json_encode( $parameters['state'] ) ); ?></pre>
