<?php
/**
 * Thrown by Capabilities::must() / mustTenant().
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

defined( 'ABSPATH' ) || exit;

/**
 * A capability check failed.
 */
class CapabilitiesException extends \Exception {
}
