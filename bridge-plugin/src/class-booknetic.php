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

	const ADDON_SLUG = 'bkntc-sms-bridge';
	const TENANT_GATE = 'sms_campaigns';

	/**
	 * Capabilities of DESIGN.md §6 (the tick's `cron` is never a user capability).
	 */
	const CAPABILITIES = array(
		'sms_campaigns'             => 'SMS Campaigns',
		'sms_campaigns_create'      => 'Create and edit SMS campaigns',
		'sms_campaigns_send'        => 'Send SMS',
		'sms_campaigns_delete'      => 'Delete SMS campaigns',
		'sms_campaign_templates'    => 'Manage SMS templates',
		'sms_campaign_logs'         => 'See SMS logs',
		'sms_campaign_suppressions' => 'Manage the SMS suppression list',
	);

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
	 * The bkntc_addons_load filter: add ours.
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
		$addons[ self::ADDON_SLUG ] = new Addon();
		return $addons;
	}

	/**
	 * The current tenant (SaaS) or null (single-site, or a super admin).
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
	 * The capabilities the current user has for SMS Campaigns: those Booknetic grants the
	 * user, and only while the tenant's plan grants the tenant gate.
	 *
	 * @return string[]
	 */
	public static function user_capabilities() {
		if ( ! self::available() || ! is_user_logged_in() ) {
			return array();
		}
		$caps = '\BookneticApp\Providers\Core\Capabilities';
		if ( ! $caps::tenantCan( self::TENANT_GATE ) ) {
			return array();
		}
		$granted = array();
		foreach ( array_keys( self::CAPABILITIES ) as $capability ) {
			if ( $caps::userCan( $capability ) ) {
				$granted[] = $capability;
			}
		}
		return $granted;
	}
}
