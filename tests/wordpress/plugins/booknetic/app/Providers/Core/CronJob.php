<?php
/**
 * Booknetic's cron: piggybacks on requests, at most once per 60 s.
 *
 * @package BookneticApp
 */

namespace BookneticApp\Providers\Core;

use BookneticApp\Providers\Helpers\BackgrouondProcess;
use BookneticApp\Providers\Helpers\Helper;

defined( 'ABSPATH' ) || exit;

/**
 * As in Booknetic (CronJob::init at the end of initApp, every request): the background
 * process is constructed (it hooks its admin-ajax.php handler), then the 60 s gate
 * (Helper::processRuntimeController, a compare-and-swap on bkntc_cron_job_runned_on) is
 * taken; if it opens, a wp-cron.php request (DOING_CRON) runs the tasks inline and any other
 * request — except the background process's own — dispatches the non-blocking loopback
 * POST admin-ajax.php?action=wp_bkntc_background_process, whose handler runs the tasks.
 * Nothing tells the caller what happened (no special header).
 */
class CronJob {

	/**
	 * The loopback dispatcher.
	 *
	 * @var BackgrouondProcess
	 */
	private static $backgroundProcess; // phpcs:ignore WordPress.NamingConventions.ValidVariableName

	/**
	 * Called on init, at the end of Bootstrap::initApp().
	 */
	public static function init() {
		self::$backgroundProcess = new BackgrouondProcess(); // phpcs:ignore WordPress.NamingConventions.ValidVariableName
		if ( ! Helper::processRuntimeController( 'cron_job', 60 ) ) {
			return;
		}
		if ( defined( 'DOING_CRON' ) ) {
			self::runTasks();
		} elseif ( ! self::isThisProcessBackgroundTask() ) {
			self::$backgroundProcess->dispatch(); // phpcs:ignore WordPress.NamingConventions.ValidVariableName
		}
	}

	/**
	 * Whether this request is the loopback itself.
	 *
	 * @return bool
	 */
	public static function isThisProcessBackgroundTask() {
		return Helper::_get( 'action', '', 'string' ) === self::$backgroundProcess->getAction(); // phpcs:ignore WordPress.NamingConventions.ValidVariableName
	}

	/**
	 * The tasks (the real core also runs reminders and DI-registered tasks here).
	 */
	public static function runTasks() {
		do_action( 'bkntc_cronjob' );
	}
}
