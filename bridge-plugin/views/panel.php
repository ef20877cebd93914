<?php
/**
 * The SMS Campaigns panel: an iframe on the relay, inside Booknetic's layout (which passes
 * $parameters: frame_src, message). Its script and style are enqueued by PanelController.
 *
 * @package BkntcSms\Bridge
 *
 * @var array $parameters
 */

defined( 'ABSPATH' ) || exit;

$bkntc_sms_src     = isset( $parameters['frame_src'] ) ? (string) $parameters['frame_src'] : '';
$bkntc_sms_message = isset( $parameters['message'] ) ? (string) $parameters['message'] : '';
?>
<div class="bkntc-sms-panel">
	<?php if ( '' !== $bkntc_sms_src ) : ?>
		<iframe id="bkntc-sms-frame" class="bkntc-sms-frame" title="<?php esc_attr_e( 'SMS Campaigns', 'bkntc-sms-bridge' ); ?>" src="<?php echo esc_url( $bkntc_sms_src ); ?>"></iframe>
		<noscript><?php esc_html_e( 'SMS Campaigns needs JavaScript.', 'bkntc-sms-bridge' ); ?></noscript>
	<?php else : ?>
		<div class="notice notice-error" id="bkntc-sms-denied"><p><?php echo esc_html( $bkntc_sms_message ); ?></p></div>
	<?php endif; ?>
</div>
