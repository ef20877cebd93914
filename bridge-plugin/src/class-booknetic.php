<?php
/**
 * Everything the bridge asks Booknetic's PHP API, behind one small class.
 *
 * @package BkntcSms\Bridge
 */

namespace BkntcSms\Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Booknetic facade: add-on registration, capabilities, the tenant gate, the tenant id.
 */
final class Booknetic {

	const ADDON_SLUG  = 'bkntc-sms-bridge';
	const TENANT_GATE = 'sms_campaigns';

	/**
	 * Capabilities of DESIGN.md §6 (the tick's `cron` is never a user capability).
	 */
	const CAPABILITIES = array(
		'sms_campaigns',
		'sms_campaigns_create',
		'sms_campaigns_send',
		'sms_campaigns_delete',
		'sms_campaign_templates',
		'sms_campaign_logs',
		'sms_campaign_suppressions',
	);

	/**
	 * Request parameters that make Booknetic 5.2's Permission::tenantId() pick the tenant
	 * from the request instead of the user on every admin-ajax.php request (the relay's).
	 */
	const TENANT_PARAMETERS = array( 'tenant_id', 'bkntc_page_id' );

	/**
	 * The capabilities with their labels, as Booknetic's role editors show them.
	 *
	 * @return array<string, string>
	 */
	public static function capability_titles() {
		return array(
			'sms_campaigns'             => __( 'SMS Campaigns', 'bkntc-sms-bridge' ),
			'sms_campaigns_create'      => __( 'Create and edit SMS campaigns', 'bkntc-sms-bridge' ),
			'sms_campaigns_send'        => __( 'Send SMS', 'bkntc-sms-bridge' ),
			'sms_campaigns_delete'      => __( 'Delete SMS campaigns', 'bkntc-sms-bridge' ),
			'sms_campaign_templates'    => __( 'Manage SMS templates', 'bkntc-sms-bridge' ),
			'sms_campaign_logs'         => __( 'See SMS logs', 'bkntc-sms-bridge' ),
			'sms_campaign_suppressions' => __( 'Manage the SMS suppression list', 'bkntc-sms-bridge' ),
		);
	}

	/**
	 * Is Booknetic (v3+ with the add-on API) loaded?
	 *
	 * @return bool
	 */
	public static function available() {
		return class_exists( '\BookneticApp\Providers\Core\AddonLoader' )
			&& class_exists( '\BookneticApp\Providers\Core\Capabilities' );
	}

	/**
	 * The bkntc_addons_load filter: add ours, and keep Booknetic's version record of it
	 * current (Booknetic compares the two on init, right after this filter).
	 *
	 * @param array $addons Add-ons registered so far.
	 * @return array
	 */
	public static function register_addon( $addons ) {
		if ( ! self::available() ) {
			return $addons;
		}
		require_once __DIR__ . '/class-addon.php';
		require_once __DIR__ . '/class-panel-controller.php';
		Options::sync_addon_version();
		$addons[ self::ADDON_SLUG ] = new Addon();
		return $addons;
	}

	/**
	 * Whether Booknetic lets the current user into its tenant panel. In SaaS the platform
	 * owner (a WordPress administrator) may not: Booknetic sends them to the SaaS panel.
	 *
	 * @return bool
	 */
	public static function can_use_booknetic() {
		return self::available() && \BookneticApp\Providers\Core\Permission::canUseBooknetic();
	}

	/**
	 * Whether the current user is the owner of a Booknetic SaaS platform.
	 *
	 * @return bool
	 */
	public static function is_saas_platform_owner() {
		return self::available()
			&& \BookneticApp\Providers\Helpers\Helper::isSaaSVersion()
			&& \BookneticApp\Providers\Core\Permission::isSuperAdministrator();
	}

	/**
	 * The current tenant (SaaS) or null (single-site).
	 *
	 * @return int|null
	 */
	public static function tenant_id() {
		if ( ! self::available() ) {
			return null;
		}
		$tenant = \BookneticApp\Providers\Core\Permission::tenantId();
		return ( is_numeric( $tenant ) && (int) $tenant > 0 ) ? (int) $tenant : null;
	}

	/**
	 * The capabilities the current user has for SMS Campaigns: none for users Booknetic
	 * keeps out of its panel; otherwise those Booknetic grants the user, and only while the
	 * tenant's plan grants the tenant gate.
	 *
	 * @return string[]
	 */
	public static function user_capabilities() {
		if ( ! is_user_logged_in() || ! self::can_use_booknetic() ) {
			return array();
		}
		$caps = '\BookneticApp\Providers\Core\Capabilities';
		if ( ! $caps::tenantCan( self::TENANT_GATE ) ) {
			return array();
		}
		$granted = array();
		foreach ( self::CAPABILITIES as $capability ) {
			if ( $caps::userCan( $capability ) ) {
				$granted[] = $capability;
			}
		}
		return $granted;
	}
}
