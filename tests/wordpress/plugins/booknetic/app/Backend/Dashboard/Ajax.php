<?php
/**
 * Dashboard ajax actions.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Backend\Dashboard;

use BookneticApp\Providers\Core\Capabilities;
use BookneticApp\Providers\Core\Permission;

defined( 'ABSPATH' ) || exit;

/**
 * POST admin.php?page=booknetic&ajax=1 module=dashboard action=ping.
 */
class Ajax extends \BookneticApp\Providers\Core\Controller {

	/**
	 * Who is asking.
	 *
	 * @return array
	 */
	public function ping() {
		Capabilities::must( 'dashboard' );
		return $this->response(
			true,
			array(
				'user_id'   => Permission::userId(),
				'tenant_id' => Permission::tenantId(),
			)
		);
	}
}
