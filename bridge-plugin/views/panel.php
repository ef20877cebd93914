<?php
/**
 * The SMS Campaigns panel: an iframe on the relay. Variables: $frame_src.
 *
 * @package BkntcSms\Bridge
 */

defined( 'ABSPATH' ) || exit;

$bkntc_sms_src = isset( $frame_src ) ? $frame_src : ( isset( $parameters['frame_src'] ) ? $parameters['frame_src'] : '' );
?>
<div class="bkntc-sms-panel">
	<iframe id="bkntc-sms-frame" title="<?php echo esc_attr__( 'SMS Campaigns', 'bkntc-sms-bridge' ); ?>"
		src="<?php echo esc_url( $bkntc_sms_src ); ?>"
		style="width:100%;min-height:760px;border:0;display:block;background:#f5f7fa"></iframe>
	<noscript><?php esc_html_e( 'SMS Campaigns needs JavaScript.', 'bkntc-sms-bridge' ); ?></noscript>
</div>
<script src="<?php echo esc_url( plugins_url( 'assets/panel.js', \BkntcSms\Bridge\PLUGIN_FILE ) ); ?>"></script>
