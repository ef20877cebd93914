<?php
/**
 * Settings → SMS Campaigns: the service address, the shared secret, a connection test, and
 * the addresses Twilio's webhooks use.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * The settings screen (manage_options only).
 */
final class Settings {

	const PAGE      = 'bkntc-sms-bridge';
	const GROUP     = 'bkntc_sms_bridge';
	const TRANSIENT = 'bkntc_sms_test_result_';

	/**
	 * Add the page under Settings.
	 */
	public static function add_page() {
		add_options_page(
			__( 'SMS Campaigns', 'bkntc-sms-bridge' ),
			__( 'SMS Campaigns', 'bkntc-sms-bridge' ),
			'manage_options',
			self::PAGE,
			array( self::class, 'render' )
		);
	}

	/**
	 * Register the sidecar URL option, and the public webhook base, with the Settings API.
	 */
	public static function register() {
		register_setting(
			self::GROUP,
			Options::SIDECAR_URL,
			array(
				'type'              => 'string',
				'sanitize_callback' => array( self::class, 'sanitize_url' ),
				'default'           => Options::DEFAULT_SIDECAR_URL,
			)
		);
		// Not a field anyone types: saving the form stores WordPress's own REST address
		// (options.php updates every option of the group, submitted or not).
		register_setting(
			self::GROUP,
			Options::PUBLIC_BASE_URL,
			array(
				'type'              => 'string',
				'sanitize_callback' => array( self::class, 'public_base_url' ),
			)
		);
	}

	/**
	 * The value saved for the public webhook base, whatever was submitted: this site's REST
	 * address for the bridge's routes.
	 *
	 * @return string
	 */
	public static function public_base_url() {
		return Webhooks::public_base_url();
	}

	/**
	 * Keep only an http(s) URL; otherwise keep the old value and say why.
	 *
	 * @param mixed $value Submitted value.
	 * @return string
	 */
	public static function sanitize_url( $value ) {
		$url = esc_url_raw( trim( (string) $value ), array( 'http', 'https' ) );
		if ( '' === $url ) {
			add_settings_error( Options::SIDECAR_URL, 'bad_url', __( 'The service address must be an http:// or https:// URL, e.g. http://127.0.0.1:8765.', 'bkntc-sms-bridge' ) );
			return Options::sidecar_url();
		}
		return untrailingslashit( $url );
	}

	/**
	 * A "Settings" link on the Plugins screen.
	 *
	 * @param array $links Existing links.
	 * @return array
	 */
	public static function action_links( $links ) {
		$links[] = '<a href="' . esc_url( admin_url( 'options-general.php?page=' . self::PAGE ) ) . '">' . esc_html__( 'Settings', 'bkntc-sms-bridge' ) . '</a>';
		return $links;
	}

	/**
	 * Make a new shared secret (capability, then nonce).
	 */
	public static function regenerate_secret() {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'bkntc-sms-bridge' ), 403 );
		}
		check_admin_referer( 'bkntc_sms_regenerate_secret' );
		update_option( Options::SECRET, Options::new_secret(), false );
		wp_safe_redirect( add_query_arg( 'bkntc_sms_notice', 'secret', admin_url( 'options-general.php?page=' . self::PAGE ) ) );
		exit;
	}

	/**
	 * Ask the service for its `check` (capability, then nonce) and show the answer.
	 */
	public static function test_connection() {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'bkntc-sms-bridge' ), 403 );
		}
		check_admin_referer( 'bkntc_sms_test_connection' );
		$identity         = Identity::current_user();
		$identity['caps'] = array_values( array_unique( array_merge( $identity['caps'], array( Booknetic::TENANT_GATE ) ) ) );
		$response         = Sidecar::request( 'GET', '/bridge/check', '', $identity, array( 'Accept' => 'application/json' ), 10.0 );
		Versions::refresh();
		if ( is_wp_error( $response ) ) {
			$result = array(
				'ok'    => false,
				'error' => sprintf(
					/* translators: 1: service URL, 2: error. */
					__( 'Could not reach the service at %1$s: %2$s. Is `bkntc-sms serve` running, and is this the right address?', 'bkntc-sms-bridge' ),
					Options::sidecar_url(),
					$response->get_error_message()
				),
			);
		} else {
			$code = (int) wp_remote_retrieve_response_code( $response );
			$data = json_decode( wp_remote_retrieve_body( $response ), true );
			if ( 200 === $code && is_array( $data ) ) {
				$result = array(
					'ok'     => ! empty( $data['ok'] ),
					'checks' => isset( $data['checks'] ) ? $data['checks'] : array(),
				);
			} else {
				$message = is_array( $data ) && isset( $data['error']['message'] ) ? $data['error']['message'] : 'HTTP ' . $code;
				$result  = array(
					'ok'    => false,
					/* translators: %s: the service's error. */
					'error' => sprintf( __( 'The service refused the request: %s (is the shared secret the same on both sides?)', 'bkntc-sms-bridge' ), $message ),
				);
			}
		}
		set_transient( self::TRANSIENT . get_current_user_id(), $result, 300 );
		wp_safe_redirect( add_query_arg( 'bkntc_sms_notice', 'tested', admin_url( 'options-general.php?page=' . self::PAGE ) ) );
		exit;
	}

	/**
	 * The screen.
	 */
	public static function render() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$result = get_transient( self::TRANSIENT . get_current_user_id() );
		delete_transient( self::TRANSIENT . get_current_user_id() );
		$tick = get_option( Options::LAST_TICK );
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- display only.
		$notice = isset( $_GET['bkntc_sms_notice'] ) ? sanitize_key( wp_unslash( $_GET['bkntc_sms_notice'] ) ) : '';
		?>
		<div class="wrap" id="bkntc-sms-settings">
			<h1><?php esc_html_e( 'SMS Campaigns', 'bkntc-sms-bridge' ); ?></h1>
			<?php if ( 'secret' === $notice ) : ?>
				<div class="notice notice-success"><p><?php esc_html_e( 'A new shared secret was created. A service that reads it from WordPress picks it up within 30 seconds; one started with BKNTC_SMS_BRIDGE_SECRET needs the new value.', 'bkntc-sms-bridge' ); ?></p></div>
			<?php endif; ?>
			<?php if ( is_array( $result ) ) : ?>
				<div id="bkntc-sms-test-result" class="notice <?php echo $result['ok'] ? 'notice-success' : 'notice-error'; ?>">
					<?php if ( isset( $result['error'] ) ) : ?>
						<p><?php echo esc_html( $result['error'] ); ?></p>
					<?php else : ?>
						<p><strong><?php echo $result['ok'] ? esc_html__( 'Connected. Everything is ready.', 'bkntc-sms-bridge' ) : esc_html__( 'Connected, but something needs attention:', 'bkntc-sms-bridge' ); ?></strong></p>
						<ul>
							<?php foreach ( $result['checks'] as $check ) : ?>
								<li><?php echo empty( $check['ok'] ) ? '&#10007;' : '&#10003;'; ?> <strong><?php echo esc_html( $check['name'] ); ?></strong>: <?php echo esc_html( $check['detail'] ); ?></li>
							<?php endforeach; ?>
						</ul>
					<?php endif; ?>
				</div>
			<?php endif; ?>

			<form method="post" action="options.php">
				<?php settings_fields( self::GROUP ); ?>
				<table class="form-table" role="presentation">
					<tr>
						<th scope="row"><label for="bkntc-sms-url"><?php esc_html_e( 'Service address', 'bkntc-sms-bridge' ); ?></label></th>
						<td>
							<input type="url" class="regular-text code" id="bkntc-sms-url" name="<?php echo esc_attr( Options::SIDECAR_URL ); ?>" value="<?php echo esc_attr( Options::sidecar_url() ); ?>">
							<p class="description"><?php esc_html_e( 'Where `bkntc-sms serve` listens, as seen from this WordPress server (default http://127.0.0.1:8765). Browsers never connect to it.', 'bkntc-sms-bridge' ); ?></p>
						</td>
					</tr>
				</table>
				<?php submit_button(); ?>
			</form>

			<?php self::render_webhooks(); ?>

			<h2><?php esc_html_e( 'Shared secret', 'bkntc-sms-bridge' ); ?></h2>
			<p><?php esc_html_e( 'Signs every request to the service. The service reads it from this site\'s database; set BKNTC_SMS_BRIDGE_SECRET on the service only if it cannot.', 'bkntc-sms-bridge' ); ?></p>
			<p><input type="text" readonly class="large-text code" id="bkntc-sms-secret" value="<?php echo esc_attr( Options::secret() ); ?>" onfocus="this.select()"></p>
			<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
				<input type="hidden" name="action" value="bkntc_sms_regenerate_secret">
				<?php wp_nonce_field( 'bkntc_sms_regenerate_secret' ); ?>
				<?php submit_button( __( 'Regenerate secret', 'bkntc-sms-bridge' ), 'secondary', 'regenerate', false ); ?>
			</form>

			<h2><?php esc_html_e( 'Connection', 'bkntc-sms-bridge' ); ?></h2>
			<p id="bkntc-sms-versions">
				<?php
				$service = Versions::refresh();
				if ( is_wp_error( $service ) ) {
					/* translators: 1: this plugin's version, 2: why the service's version is unknown. */
					echo esc_html( sprintf( __( 'Plugin version %1$s; service version unknown (%2$s).', 'bkntc-sms-bridge' ), VERSION, $service->get_error_message() ) );
				} else {
					/* translators: 1: this plugin's version, 2: the service's version. */
					echo esc_html( sprintf( __( 'Plugin version %1$s; service version %2$s.', 'bkntc-sms-bridge' ), VERSION, '' === $service ? __( 'before 0.2 (it reports none)', 'bkntc-sms-bridge' ) : $service ) );
				}
				?>
			</p>
			<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
				<input type="hidden" name="action" value="bkntc_sms_test_connection">
				<?php wp_nonce_field( 'bkntc_sms_test_connection' ); ?>
				<?php submit_button( __( 'Test connection', 'bkntc-sms-bridge' ), 'primary', 'test', false, array( 'id' => 'bkntc-sms-test' ) ); ?>
			</form>
			<p class="description">
				<?php
				if ( is_array( $tick ) && isset( $tick['at'] ) ) {
					/* translators: 1: date, 2: result. */
					echo esc_html( sprintf( __( 'Last Booknetic cron tick forwarded: %1$s — %2$s', 'bkntc-sms-bridge' ), wp_date( 'Y-m-d H:i:s', (int) $tick['at'] ), $tick['ok'] ? __( 'accepted', 'bkntc-sms-bridge' ) : $tick['error'] ) );
				} else {
					esc_html_e( 'No Booknetic cron tick forwarded yet.', 'bkntc-sms-bridge' );
				}
				?>
			</p>
		</div>
		<?php
	}

	/**
	 * The Twilio webhooks section: the public base and the address to give Twilio for
	 * incoming messages.
	 */
	private static function render_webhooks() {
		// Written on activation, or by admin_init just before this screen if it was missing.
		$base = Options::public_base_url();
		?>
		<h2><?php esc_html_e( 'Twilio webhooks', 'bkntc-sms-bridge' ); ?></h2>
		<p><?php esc_html_e( 'Twilio reports what happened to each message, and forwards the replies your customers send (STOP, START, HELP), to these public addresses of this site. WordPress passes them on to the service, which checks Twilio\'s signature.', 'bkntc-sms-bridge' ); ?></p>
		<table class="form-table" role="presentation">
			<tr>
				<th scope="row"><label for="bkntc-sms-public-base"><?php esc_html_e( 'Public address', 'bkntc-sms-bridge' ); ?></label></th>
				<td>
					<input type="text" readonly class="large-text code" id="bkntc-sms-public-base" value="<?php echo esc_attr( $base ); ?>" onfocus="this.select()">
					<p class="description"><?php esc_html_e( 'Every message asks Twilio to report its delivery to this address followed by twilio/status; there is nothing to set up for that. Saving the settings above records the address again (after the site address changed, for example).', 'bkntc-sms-bridge' ); ?></p>
				</td>
			</tr>
			<tr>
				<th scope="row"><label for="bkntc-sms-inbound-url"><?php esc_html_e( 'A message comes in', 'bkntc-sms-bridge' ); ?></label></th>
				<td>
					<input type="text" readonly class="large-text code" id="bkntc-sms-inbound-url" value="<?php echo esc_attr( $base . 'twilio/inbound' ); ?>" onfocus="this.select()">
					<p class="description"><?php esc_html_e( 'In the Twilio Console, open your phone number (Phone Numbers > Manage > Active numbers) and, under "Messaging Configuration", paste this address as the "A message comes in" webhook, with HTTP POST. Replies such as STOP and START then take effect at once.', 'bkntc-sms-bridge' ); ?></p>
				</td>
			</tr>
		</table>
		<?php
	}
}
