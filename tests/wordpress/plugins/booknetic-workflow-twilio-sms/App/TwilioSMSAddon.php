<?php
/**
 * The add-on's registration (what the real add-on does in init(), minus the workflow driver).
 *
 * @package BookneticAddon\TwilioSMS
 */

namespace BookneticAddon\TwilioSMS;

use BookneticApp\Providers\Core\AddonLoader;
use BookneticApp\Providers\Core\Capabilities;

defined( 'ABSPATH' ) || exit;

/**
 * Add-on booknetic-workflow-twilio-sms.
 */
class TwilioSMSAddon extends AddonLoader {

	/**
	 * Capabilities and limit, behind the plan gate.
	 */
	public function init() {
		Capabilities::registerTenantCapability( 'twilio_sms', 'Twilio SMS', 'workflow' );
		if ( ! Capabilities::tenantCan( 'twilio_sms' ) ) {
			return;
		}
		Capabilities::register( 'twilio_sms_settings', 'Twilio SMS settings', 'settings' );
		Capabilities::registerLimit( 'twilio_sms_allowed_max_number', 'Allowed maximum number of SMS' );
	}
}
