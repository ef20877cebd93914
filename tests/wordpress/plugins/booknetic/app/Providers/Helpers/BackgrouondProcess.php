<?php
/**
 * Booknetic's cron loopback (the class name is Booknetic's, misspelling included).
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Helpers;

use BookneticApp\Providers\Core\CronJob;

defined( 'ABSPATH' ) || exit;

/**
 * admin-ajax.php?action=wp_bkntc_background_process runs CronJob::runTasks().
 */
class BackgrouondProcess extends AsyncRequest {

	/**
	 * Action name.
	 *
	 * @var string
	 */
	protected $action = 'bkntc_background_process';

	/**
	 * Run Booknetic's cron tasks.
	 */
	protected function handle() {
		CronJob::runTasks();
	}

	/**
	 * The action name (bkntc_background_process), as in Booknetic — not the identifier the
	 * loopback URL carries, so CronJob::isThisProcessBackgroundTask() is never true; the
	 * gate, just taken by the dispatching request, is what keeps the loopback from
	 * dispatching again.
	 *
	 * @return string
	 */
	public function getAction() {
		return $this->action;
	}
}
